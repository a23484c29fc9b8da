"""The network `Prober`: probe an entry's endpoint, then judge it with the trust it configures.

`adapters.probe` reads what the server presents without trusting it (that is
what can be pinned). This module adds the second half of a connection test:
would fedi-tui's clients accept this server as the entry is configured?

* a pinned ``fingerprint`` / ``host_key``: the presented one must equal it;
* ``ca_file``: the file must exist and the certificate must verify against it
  (chain and host name, as the API clients check it) in a second handshake;
* neither, for TLS: the same check against the system's CAs;
* neither, for SSH: known_hosts must hold the presented key for the host.

Nothing but a TLS handshake or an SSH key exchange is ever sent.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fedi_tui.adapters.probe import fingerprint_of_der, probe_ssh, probe_url
from fedi_tui.adapters.tcpconnect import ConnectFailed, one_line, tcp_connect
from fedi_tui.core.probes import ProbeReport, ProbeResult, ProbeTarget, Trust, judge_pin

if TYPE_CHECKING:
    import asyncssh

__all__ = ["NetworkProber"]

_CA_HOWTO = (
    "copy the CA certificate there (on a Proxmox node: /etc/pve/pve-root-ca.pem), "
    "or pin the certificate's fingerprint instead (p)"
)


class NetworkProber:
    """Connection tests over the network; `timeout` applies to each connect and handshake."""

    def __init__(self, *, timeout: float = 5.0, known_hosts: Path | None = None) -> None:
        self.timeout = timeout
        self.known_hosts = known_hosts
        """Used for SSH hosts without a pinned host_key; default ~/.ssh/known_hosts."""

    async def check(self, target: ProbeTarget) -> ProbeReport:
        if target.url is None:
            result = await probe_ssh(target.host, target.port, self.timeout)
        else:
            result = await probe_url(target.url, self.timeout)
        if result.error is not None:
            return ProbeReport(target, result, None)
        trust = judge_pin(target, result)
        if trust is None:
            if result.ssh_host_key is not None:
                trust = self._known_hosts(target, result)
            elif result.tls_fingerprint is not None:
                trust = await self._verify_tls(target, result)
            else:
                trust = Trust(
                    "nothing (plain http://)",
                    None,
                    "the endpoint is plain http://: nothing is encrypted, so there is "
                    "nothing to verify or pin",
                )
        return ProbeReport(target, result, trust)

    async def _verify_tls(self, target: ProbeTarget, result: ProbeResult) -> Trust:
        if target.ca_file is not None and target.ca_path is not None:
            anchor = f"the CA in {target.ca_file}"
            path = target.ca_path
            if not path.is_file():
                detail = f"ca_file {target.ca_file!r}: {path} does not exist or is not a file"
                return Trust(anchor, False, f"{detail}; {_CA_HOWTO}")
            try:
                context = ssl.create_default_context(cafile=str(path))
            except (ssl.SSLError, OSError, ValueError) as exc:
                detail = f"{path} holds no readable PEM CA certificate ({one_line(exc)})"
                return Trust(anchor, False, f"{detail}; {_CA_HOWTO}")
        else:
            anchor = "the system's CAs"
            context = ssl.create_default_context()
        parts = urlsplit(target.url or "")
        host, port = parts.hostname or "", parts.port or 443
        try:
            sock, _ = await tcp_connect(host, port, self.timeout)
        except ConnectFailed as exc:
            return Trust(anchor, False, f"the second connection, to verify, failed: {exc}")
        try:
            async with asyncio.timeout(self.timeout):
                _, writer = await asyncio.open_connection(
                    sock=sock, ssl=context, server_hostname=host
                )
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            reason = exc.verify_message or one_line(exc)
            return Trust(
                anchor,
                False,
                f"the certificate does not verify against {anchor} ({reason}): fedi-tui will "
                "refuse this server; pin its fingerprint (p) after comparing it with "
                "`pvenode cert info` on the node, or configure the CA that signed it",
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            sock.close()
            reason = one_line(exc) or type(exc).__name__
            return Trust(
                anchor, False, f"the TLS handshake to verify the certificate failed ({reason})"
            )
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        writer.close()
        try:
            async with asyncio.timeout(self.timeout):
                await writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            writer.transport.abort()
        if der is None or fingerprint_of_der(der) != result.tls_fingerprint:
            return Trust(
                anchor,
                False,
                "the server presented a different certificate on the second connection: "
                "test again, and check who answers on this address",
            )
        return Trust(anchor, True, f"the certificate verifies against {anchor}")

    def _known_hosts(self, target: ProbeTarget, result: ProbeResult) -> Trust:
        import asyncssh

        from fedi_tui.adapters.sshlogin import DEFAULT_KNOWN_HOSTS

        path = (self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()
        anchor = f"known_hosts ({path})"
        pin = "pin the host key (p) after comparing it with the machine's console"
        if not path.is_file():
            return Trust(
                anchor,
                False,
                f"no host_key is pinned and {path} does not exist: fedi-tui will refuse this "
                f"host; {pin}",
            )
        try:
            known = asyncssh.read_known_hosts(str(path))
        except (OSError, ValueError) as exc:
            return Trust(anchor, False, f"cannot read {path} ({one_line(exc)}); fix it, or {pin}")
        port = target.port if target.port != 22 else None
        trusted = asyncssh.match_known_hosts(known, target.host, target.host, port)[0]
        # asyncssh retries without the port when only a @revoked line matches: look it up alone
        pattern = target.host if port is None else f"[{target.host}]:{port}"
        revoked = asyncssh.match_known_hosts(known, pattern, "", None)[2]
        shown = result.ssh_host_key
        if shown in {_line(k) for k in revoked}:
            return Trust(
                anchor, False, f"the host key is marked @revoked in {path}: fedi-tui will refuse it"
            )
        lines = {_line(k) for k in trusted}
        if shown in lines:
            return Trust(anchor, True, f"the host key is listed for this host in {path}")
        if lines:
            return Trust(
                anchor,
                False,
                f"the host key DIFFERS from the one {path} lists for this host: fedi-tui "
                "will refuse it. A changed host key can mean someone is intercepting the "
                f"connection; compare it with the machine's console before trusting it",
            )
        return Trust(
            anchor, False, f"{path} has no key for this host: fedi-tui will refuse it; {pin}"
        )


def _line(key: asyncssh.SSHKey) -> str:
    from fedi_tui.adapters.hostkey import openssh_line  # asyncssh loads only for SSH tests

    return openssh_line(key)
