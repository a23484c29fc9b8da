"""fedi-tui's own known_hosts file: read a host's offered key, compare, append (for `trust`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from fedi_tui.adapters.hostkey import openssh_line, read_host_key
from fedi_tui.adapters.tcpconnect import ConnectFailed, one_line, target_of, tcp_connect
from fedi_tui.core.errors import FediError

TIMEOUT = 10.0


def pattern(host: str, port: int) -> str:
    """`[host]:port` for ports other than 22, bare `host` for 22 (OpenSSH's rule)."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class OfferedKey:
    host: str
    port: int
    line: str
    """`ssh-ed25519 AAAA…`."""
    algorithm: str
    fingerprint: str
    """`SHA256:…`, as `ssh-keygen -lf` prints it."""

    def already_trusted(self, known_hosts: Path) -> bool:
        """True if known_hosts trusts exactly this key; FediError if it trusts another."""
        if not known_hosts.exists() or not known_hosts.read_text(encoding="utf-8").strip():
            return False
        try:
            trusted = asyncssh.read_known_hosts(str(known_hosts))
        except (OSError, ValueError) as exc:
            raise FediError(f"cannot read {known_hosts}: {one_line(exc)}") from None
        found = asyncssh.match_known_hosts(
            trusted, self.host, self.host, self.port if self.port != 22 else None
        )
        keys = {openssh_line(k) for k in found[0]}
        if self.line in keys:
            return True
        if keys:
            raise FediError(
                f"{target_of(self.host, self.port)} presents {self.fingerprint}, but {known_hosts} "
                "trusts another key for it: the key has CHANGED. Someone may be intercepting the "
                "connection. If the machine was reinstalled, compare the fingerprint on its "
                f"console, remove the old entry (`ssh-keygen -R '{pattern(self.host, self.port)}' "
                f"-f {known_hosts}`) and trust it again"
            )
        return False


async def read_offered_key(host: str, port: int) -> OfferedKey:
    """The host key a server presents (nothing is authenticated or sent)."""
    try:
        sock, _latency = await tcp_connect(host, port, TIMEOUT)
    except ConnectFailed as exc:
        raise FediError(str(exc)) from None
    try:
        async with asyncio.timeout(TIMEOUT):
            key = await read_host_key(sock=sock)
    except (TimeoutError, asyncssh.Error, OSError) as exc:
        sock.close()
        reason = f"no answer within {TIMEOUT:g} s" if isinstance(exc, TimeoutError) else exc
        raise FediError(
            f"{target_of(host, port)}: could not read its SSH host key ({one_line(reason)})"
        ) from None
    if key is None:
        raise FediError(f"{target_of(host, port)} presented no host key")
    return OfferedKey(
        host, port, openssh_line(key), key.get_algorithm(), key.get_fingerprint("sha256")
    )


def add_known_host(known_hosts: Path, host: str, port: int, key: OfferedKey) -> None:
    """Append `pattern key` to the file (created owner-only if missing)."""
    known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with known_hosts.open("a", encoding="utf-8") as f:
        f.write(f"{pattern(host, port)} {key.line}\n")
    known_hosts.chmod(0o600)
