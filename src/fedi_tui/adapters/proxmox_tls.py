"""How the Proxmox client trusts the API's TLS certificate: a CA file, the system CAs, or a pin.

With ``fingerprint = "AA:BB:…"`` in ``fedi.toml`` the certificate chain is not
judged at all: the connection is accepted exactly when the SHA-256 of the
server's leaf certificate (DER) equals the pinned value, as Proxmox's own
cluster-join and ``pvesh`` fingerprint pinning do. That is stricter than a CA
(only this one certificate passes, whoever signed it), so a self-signed
``pve-ssl.pem`` works without distributing a CA. The check is urllib3's
``assert_fingerprint``, run on every new connection right after the handshake
and before a single byte of the request — and so before the API token — is
sent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fedi_tui.adapters.proxmox_http import check_answer
from fedi_tui.adapters.tls import PinnedAdapter, hex_pairs, system_cas
from fedi_tui.core.errors import FediError

__all__ = [
    "PinnedAdapter",
    "configure_session",
    "describe_tls_failure",
    "retrying",
    "system_cas",
]

PIN_HOWTO = (
    "pin it with the fedi-tui runtimes screen (t: Test connection, then p: Pin), "
    "or set ca_file or fingerprint in fedi.toml"
)


def retrying() -> Retry:
    """No retries down in urllib3, no redirects: the client's own retry loop decides what
    may be sent again (it knows which calls are safe to repeat, and it can be cancelled)."""
    return Retry(0, read=False)  # as requests' own default: a read error is raised as it is


POOL_SIZE = 32
"""Connections kept per API endpoint: enough for every concurrent call of one apply."""


def configure_session(
    session: requests.Session,
    base_url: str,
    *,
    fingerprint: str | None,
) -> None:
    """Harden proxmoxer's session: no proxies or netrc from the environment, no retries
    or redirects, every answer checked (:func:`check_answer`), pinning."""
    session.trust_env = False  # HTTPS_PROXY, REQUESTS_CA_BUNDLE and ~/.netrc do not apply
    session.max_redirects = 0
    session.hooks["response"] = [check_answer]
    options: dict[str, Any] = {
        "max_retries": retrying(),
        "pool_connections": 1,
        "pool_maxsize": POOL_SIZE,
    }
    adapter: HTTPAdapter = (
        PinnedAdapter(fingerprint, **options) if fingerprint else HTTPAdapter(**options)
    )
    prefix = base_url.split("/api2/", 1)[0] + "/"
    session.mount(prefix, adapter)


def ca_path(ca_file: str, base_dir: Path | None) -> Path:
    """The CA file as a path: `~` expands; relative paths are relative to the state file."""
    path = Path(ca_file).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise FediError(
            f"ca_file {ca_file!r}: {path} does not exist or is not a file; copy the CA "
            "certificate there (on a Proxmox node: /etc/pve/pve-root-ca.pem), "
            "or pin the certificate's fingerprint instead"
        )
    return path


def describe_tls_failure(
    target: str, detail: str, *, ca_file: str | None, fingerprint: str | None
) -> str:
    """One message for a failed TLS verification: what was expected, what came, what to do."""
    got = re.search(r'got "([0-9a-fA-F]{64})"', detail)
    if fingerprint is not None:
        if got:
            return (
                f"TLS: the certificate of {target} has fingerprint {hex_pairs(got.group(1))}, "
                f"but fedi.toml pins {fingerprint}; if the certificate was renewed, compare "
                "the new fingerprint with `pvenode cert info` on the node, then "
                f"{PIN_HOWTO}. Nothing was sent."
            )
        return f"TLS: checking the pinned certificate of {target} failed ({detail}); {PIN_HOWTO}"
    anchor = f"the CA in {ca_file}" if ca_file else "the system's CAs"
    reason = detail
    for known in (
        "self-signed certificate",
        "unable to get local issuer certificate",
        "certificate has expired",
        "IP address mismatch",
        "Hostname mismatch",
    ):
        if known.lower() in detail.lower():
            reason = known
            break
    return (
        f"TLS: the certificate of {target} could not be verified against {anchor} "
        f"({reason}); {PIN_HOWTO}. Nothing was sent."
    )
