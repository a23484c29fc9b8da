"""HTTPS for the adapters' HTTP clients: whom to trust, and what to say when a connection fails.

Three ways to trust a server, as ``fedi.toml`` says per runtime or storage:

- ``ca_file``: the certificate chain must lead to that CA (and name the host);
- ``fingerprint = "AA:BB:…"``: the chain is not judged at all; the connection
  is accepted exactly when the SHA-256 of the server's leaf certificate (DER)
  equals the pin — urllib3's ``assert_fingerprint``, checked on every new
  connection right after the handshake, before a byte of the request (and so
  before any token) is sent;
- neither: the operating system's CAs.

:func:`https_session` builds a :class:`requests.Session` that does exactly one
of these and nothing from the environment (no ``HTTPS_PROXY``,
``REQUESTS_CA_BUNDLE`` or ``~/.netrc``). :func:`explain_transport` turns a
failed request (TLS, refused, timed out, dropped) into one message that says
where, what was expected and what to do.

This generalises what ``proxmox_tls`` does for Proxmox; the Garage admin API
and the S3 client use it.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fedi_tui.adapters.tcpconnect import SERVICES
from fedi_tui.core.errors import FediError

__all__ = [
    "PinnedAdapter",
    "Trust",
    "describe_tls_failure",
    "explain_transport",
    "https_session",
    "innermost",
    "is_refused",
    "trust_of",
]


def retrying() -> Retry:
    """Retry policy: reads (GET) survive a dropped connection; writes are never repeated."""
    return Retry(
        total=3,
        connect=2,
        read=2,
        status=0,
        other=0,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=0.2,
        raise_on_status=False,
        redirect=0,
    )


@dataclass(frozen=True)
class Trust:
    """How one endpoint's certificate is judged."""

    ca_file: str | None
    """``ca_file`` as written in fedi.toml (for messages)."""
    ca_path: Path | None
    """That file, resolved (relative to the state file)."""
    fingerprint: str | None
    """The pinned SHA-256 of the leaf certificate, ``AA:BB:…``."""

    @property
    def verify(self) -> str | bool:
        """What requests' ``verify`` gets (ignored by :class:`PinnedAdapter`)."""
        if self.ca_path is not None:
            return str(self.ca_path)
        if self.fingerprint:
            return True
        return system_cas()


def trust_of(
    ca_file: str | None, fingerprint: str | None, base_dir: Path | None, *, where: str
) -> Trust:
    """The trust settings of an entry in fedi.toml; FediError when ``ca_file`` is not there.

    *where* names the entry in messages, e.g. ``storage.garage-a``.
    """
    path = None
    if ca_file:
        path = Path(ca_file).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise FediError(
                f"{where}.ca_file {ca_file!r}: {path} does not exist or is not a file; copy "
                "the CA certificate that signed the server's certificate there, or pin the "
                'certificate\'s fingerprint instead (fingerprint = "AA:BB:…")'
            )
    return Trust(ca_file=ca_file, ca_path=path, fingerprint=fingerprint)


class PinnedAdapter(HTTPAdapter):
    """Accepts a TLS connection only if the leaf certificate's SHA-256 equals the pin.

    Whatever ``verify`` a caller passes is ignored: this adapter always pins.
    """

    def __init__(self, fingerprint: str, **kwargs: Any) -> None:
        hexdigits = fingerprint.replace(":", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hexdigits):
            raise ValueError("a SHA-256 fingerprint is 32 hex pairs, 'AA:BB:…'")
        self.pin = hexdigits
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, True, cert)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        # The chain is not judged (nothing to judge a self-signed certificate against);
        # the pin decides, on every new connection, before the request is sent.
        pool_kwargs["cert_reqs"] = "CERT_NONE"
        pool_kwargs["assert_fingerprint"] = self.pin
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_NONE"
        conn.ca_certs = None
        conn.ca_cert_dir = None
        conn.assert_fingerprint = self.pin
        if cert:
            raise ValueError("client certificates are not used with a pinned fingerprint")


def https_session(trust: Trust, *, retries: bool = True) -> requests.Session:
    """A session that trusts exactly as *trust* says and takes nothing from the environment.

    No default headers are sent but the ones a request names (requests' own
    ``Accept-Encoding: gzip`` and user agent are dropped), redirects are never
    followed (callers pass ``allow_redirects=False`` too), and with *retries*
    GET requests survive a dropped connection.
    """
    session = requests.Session()
    session.trust_env = False
    session.headers.clear()
    session.verify = trust.verify
    policy = retrying() if retries else Retry(total=0, redirect=0, raise_on_status=False)
    adapter: HTTPAdapter = (
        PinnedAdapter(trust.fingerprint, max_retries=policy)
        if trust.fingerprint
        else HTTPAdapter(max_retries=policy)
    )
    session.mount("https://", adapter)
    session.mount("http://", HTTPAdapter(max_retries=policy))
    return session


def system_cas() -> str | bool:
    """The operating system's CA store for requests' ``verify``; certifi's bundle if none."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile and Path(paths.cafile).is_file():
        return paths.cafile
    if paths.capath and Path(paths.capath).is_dir():
        return paths.capath
    return True


def hex_pairs(hexdigits: str) -> str:
    """`aabb…` as `AA:BB:…`."""
    upper = hexdigits.upper()
    return ":".join(upper[i : i + 2] for i in range(0, len(upper), 2))


def describe_tls_failure(target: str, detail: str, trust: Trust, *, howto: str) -> str:
    """One message for a failed TLS verification: what was expected, what came, what to do.

    *howto* says how to fix the trust settings for this kind of server.
    """
    got = re.search(r'got "?([0-9a-fA-F]{64})"?', detail)
    if trust.fingerprint is not None:
        if got:
            return (
                f"TLS: the certificate of {target} has fingerprint {hex_pairs(got.group(1))}, "
                f"but fedi.toml pins {trust.fingerprint}; if the certificate was renewed, "
                f"check the new fingerprint on the server, then {howto}. Nothing was sent."
            )
        return (
            f"TLS: checking the pinned certificate of {target} failed ({detail}); {howto}. "
            "Nothing was sent."
        )
    anchor = f"the CA in {trust.ca_file}" if trust.ca_file else "the system's CAs"
    reason = detail
    for known in (
        "self-signed certificate",
        "unable to get local issuer certificate",
        "certificate has expired",
        "IP address mismatch",
        "Hostname mismatch",
        "wrong version number",
    ):
        if known.lower() in detail.lower():
            reason = known
            break
    if reason == "wrong version number":
        return (
            f"TLS: {target} does not speak TLS (wrong version number): the endpoint is "
            "plain HTTP, or another service listens there; check the address, port and "
            "scheme in fedi.toml. Nothing was sent."
        )
    return (
        f"TLS: the certificate of {target} could not be verified against {anchor} "
        f"({reason}); {howto}. Nothing was sent."
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
        todo += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def is_refused(exc: BaseException) -> bool:
    """The connection was refused (nothing listens), anywhere in the exception's chain."""
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc)) or (
        "connection refused" in str(exc).lower()
    )


def innermost(exc: BaseException) -> str:
    """The most specific words in an exception's chain (an OSError's strerror, if any)."""
    chain = _chain(exc)
    for item in reversed(chain):
        if isinstance(item, OSError) and (item.strerror or str(item)):
            return item.strerror or str(item)
    return str(chain[-1]) or type(chain[-1]).__name__


def explain_transport(
    exc: requests.RequestException,
    *,
    prefix: str,
    what: str,
    target: str,
    trust: Trust,
    howto: str,
    scrub: Callable[[str], str],
    setting: str,
) -> FediError:
    """The message for a request that failed below HTTP (TLS, refused, timeout, dropped).

    *prefix* names the entry (``storage garage-a (https://…)``), *what* the
    operation, *target* ``host:port``, *setting* the fedi.toml key holding the
    address; *scrub* makes outside text safe (visible, no secret).
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return FediError(
            f"{prefix}: " + describe_tls_failure(target, scrub(str(exc)), trust, howto=howto)
        )
    if isinstance(exc, requests.exceptions.Timeout):
        kind = "connect" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read"
        return FediError(
            f"{prefix}: {what}: no answer from {target} in time ({kind} timed out): the host "
            "may be down or overloaded, or a firewall drops the packets; check it and run again"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        port = int(target.rsplit(":", 1)[1]) if ":" in target else 443
        service = SERVICES.get(port, "the service")
        if is_refused(exc):
            return FediError(
                f"{prefix}: connection refused on {target}: nothing listens there; is "
                f"{service} running? check {setting} in fedi.toml"
            )
        return FediError(
            f"{prefix}: {what}: lost the connection to {target} ({scrub(innermost(exc))}); "
            "check the network and run again"
        )
    return FediError(f"{prefix}: {what} failed: {type(exc).__name__}: {scrub(str(exc))}")
