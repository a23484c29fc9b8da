"""Log in to a machine over SSH with strict host keys, or say exactly why not.

Trust comes from exactly one place: a ``host_key`` pinned in ``fedi.toml``
(turned into an in-memory known_hosts holding that one key) or a known_hosts
file. Host key verification is never switched off and an unknown key is never
accepted. Only the private key file given is used: no agent, no
``~/.ssh/config``, no default identities, no password or keyboard-interactive
login.

Every failure becomes a :class:`FediError` that says what happened and what to
do: unknown, changed or revoked host key (with the key the server presented,
its fingerprint, what was expected and how to re-pin), key refused, connection
refused, time-out. :class:`asyncio.CancelledError` propagates untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import asyncssh

from fedi_tui.adapters.hostkey import openssh_line, read_host_key
from fedi_tui.adapters.tcpconnect import ConnectFailed, one_line, seconds, target_of, tcp_connect
from fedi_tui.core.errors import FediError

CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)
"""asyncssh's own list, AES-GCM first: as safe as ChaCha20-Poly1305 and, on machines with
AES instructions (all a provider runs), far less of fedi-tui's CPU per packet, which
adds up when it deploys to many machines at once (tests/bench/bench_apply.py)."""

__all__ = ["DEFAULT_KNOWN_HOSTS", "login", "openssh_line"]

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
"""Used when neither ``host_key`` nor ``known_hosts`` is given (``~`` expands)."""


def _known_hosts_pattern(host: str, port: int) -> str:
    """``[host]:port`` for ports other than 22, bare ``host`` for 22 (OpenSSH's rule)."""
    return host if port == 22 else f"[{host}]:{port}"


class _Trust:
    """Where the host key is checked against, and how to word a mismatch."""

    def __init__(
        self, host: str, port: int, host_key: str | None, known_hosts: Path | None
    ) -> None:
        self.pattern = _known_hosts_pattern(host, port)
        self.pinned: str | None = None
        self.file: Path | None = None
        self._revoked: asyncssh.SSHKnownHosts | None = None
        if host_key is not None:
            line = " ".join(host_key.split()[:2])
            try:
                asyncssh.import_public_key(line)
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise FediError(
                    f"the pinned host_key for {target_of(host, port)} is not an SSH public key "
                    f"({one_line(exc)}): expected 'ssh-ed25519 AAAA…'; test the connection "
                    "again and re-pin it"
                ) from None
            self.pinned = line
            self.arg: asyncssh.SSHKnownHosts = asyncssh.import_known_hosts(
                f"{self.pattern} {line}\n"
            )
            return
        path = (known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()
        self.file = path
        if not path.is_file():
            raise FediError(
                f"cannot verify the host key of {target_of(host, port)}: no host_key is pinned "
                f"and the known_hosts file {path} does not exist; test the connection and pin "
                "host_key in fedi.toml (TUI: Runtimes, t then p)"
            )
        try:
            self.arg = asyncssh.read_known_hosts(str(path))
            self._revoked = _revoked_entries(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError) as exc:
            raise FediError(
                f"cannot read the known_hosts file {path}: {one_line(exc)}; fix or replace it"
            ) from None

    def expected(self, host: str, addr: str, port: int) -> list[asyncssh.SSHKey]:
        """The keys trusted for this host (once each); a key also marked @revoked is not."""
        found = asyncssh.match_known_hosts(self.arg, host, addr, port if port != 22 else None)
        revoked = self.revoked(host, addr, port)
        unique = {openssh_line(key): key for key in found[0] if openssh_line(key) not in revoked}
        return list(unique.values())

    def revoked(self, host: str, addr: str, port: int) -> set[str]:
        """The keys known_hosts marks ``@revoked`` for this host, as OpenSSH lines.

        Matched on the ``@revoked`` lines alone: asyncssh drops the revoked keys of a
        ``[host]:port`` entry when that port has no trusted key.
        """
        if self._revoked is None:
            return set()
        found = asyncssh.match_known_hosts(self._revoked, host, addr, port if port != 22 else None)
        return {openssh_line(key) for key in found[0]}

    def revoked_message(self, target: str, presented: asyncssh.SSHKey) -> str:
        """The server presented a key that known_hosts marks as revoked."""
        line = openssh_line(presented)
        console = f"ssh-keygen -lf /etc/ssh/{_host_key_file(presented)}"
        return (
            f"host key of {target} is REVOKED: it presented {line} "
            f"({presented.get_fingerprint('sha256')}), which {self.file} marks @revoked. "
            "A revoked key is never trusted, so nothing was sent. If the machine still uses "
            "that key, its key is compromised: give it a new one. Once it has a new key, compare "
            f"that key's fingerprint with `{console}` on its console and pin it: "
            f'host_key = "ssh-ed25519 AAAA…" in fedi.toml, or a "{self.pattern} <key>" line '
            f"in {self.file}"
        )

    def message(
        self, target: str, presented: asyncssh.SSHKey | None, expected: list[asyncssh.SSHKey]
    ) -> str:
        """Why the host key was refused, what was presented and expected, and how to re-pin."""
        if presented is None:
            shown = "its host key could not be read"
            line = "<the key>"
            console = "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"
        else:
            line = openssh_line(presented)
            shown = f"it presented {line} ({presented.get_fingerprint('sha256')})"
            console = f"ssh-keygen -lf /etc/ssh/{_host_key_file(presented)}"
        wanted = ", ".join(f"{k.get_algorithm()} {k.get_fingerprint('sha256')}" for k in expected)
        where = f'the line "{self.pattern} {line}"'
        if self.pinned is not None:
            return (
                f"host key of {target} does not match the pinned host_key: {shown}; "
                f"fedi.toml pins {wanted or self.pinned}. Someone may be intercepting the "
                "connection, so nothing was sent. If the machine was reinstalled, compare the "
                f"fingerprint with `{console}` on its console and, only if it matches, set "
                f'host_key = "{line}" in the runtime\'s section of fedi.toml '
                "(TUI: Runtimes, t then p)"
            )
        if not expected:
            return (
                f"host key of {target} is unknown: {shown}, and {self.file} has no entry for "
                f"{self.pattern}. Nothing was sent. Compare the fingerprint with `{console}` "
                f'on the machine\'s console and, only if it matches, pin host_key = "{line}" '
                f"in fedi.toml (TUI: Runtimes, t then p) or add {where} to {self.file}"
            )
        return (
            f"host key of {target} has CHANGED: {shown}; {self.file} expects {wanted}. "
            "Someone may be intercepting the connection, so nothing was sent. If the machine "
            f"was reinstalled, compare the fingerprint with `{console}` on its console and, "
            f"only if it matches, remove the old entry with "
            f"`ssh-keygen -R '{self.pattern}' -f {self.file}` and pin the new key: "
            f'host_key = "{line}" in fedi.toml, or {where} in the file'
        )


def _revoked_entries(text: str) -> asyncssh.SSHKnownHosts | None:
    """The ``@revoked`` lines of a known_hosts file, as plain entries (None if there are none)."""
    lines = [
        line.split(None, 1)[1] + "\n"
        for line in text.splitlines()
        if line.startswith("@revoked") and len(line.split(None, 1)) == 2
    ]
    return asyncssh.import_known_hosts("".join(lines)) if lines else None


def _host_key_file(key: asyncssh.SSHKey) -> str:
    """Where OpenSSH keeps a host key of this type (the .pub to fingerprint on the console)."""
    algorithm = key.get_algorithm()
    kind = "ecdsa" if algorithm.startswith("ecdsa") else algorithm.removeprefix("ssh-")
    return f"ssh_host_{kind}_key.pub"


class _Client(asyncssh.SSHClient):
    """Remembers the host key the server presented when it was not trusted."""

    def __init__(self) -> None:
        self.presented: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.presented = key
        return False  # trust comes only from the pinned key / known_hosts; never added here


def _client_key(path: Path) -> asyncssh.SSHKey:
    try:
        return asyncssh.read_private_key(str(path))
    except OSError as exc:
        raise FediError(
            f"cannot read the SSH key {path}: {exc.strerror or one_line(exc)}; "
            "check ssh.key in fedi.toml"
        ) from None
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as exc:
        reason = one_line(exc)
        hint = (
            "fedi-tui reads the key file directly (no agent): use a key without a passphrase, "
            "readable only by you"
            if "passphrase" in reason.lower()
            else "expected an OpenSSH private key (ssh-keygen -t ed25519)"
        )
        raise FediError(f"cannot use the SSH key {path}: {reason}; {hint}") from None


async def _offered_key(
    host: str, port: int, timeout: float, algs: list[str] | None = None
) -> asyncssh.SSHKey | None:
    """The host key the server offers for *algs* (default: its preferred), or None.

    Key exchange only: nothing is authenticated, nothing is trusted because of it.
    """
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            return await read_host_key(host, port, algs=algs)
    return None


async def _key_of_another_type(
    host: str, port: int, expected: list[asyncssh.SSHKey], timeout: float
) -> tuple[bool, asyncssh.SSHKey | None]:
    """Did the login fail because the server has no key of the trusted types?

    Only the trusted key types are offered when logging in, so such a server
    ends the key exchange without presenting anything. Returns whether that is
    the case and, if so, the key the server does present by default.
    """
    if not expected:
        return False, None
    algs = sorted({alg.decode() for key in expected for alg in key.sig_algorithms})
    if await _offered_key(host, port, timeout, algs) is not None:
        return False, None
    return True, await _offered_key(host, port, timeout)


async def login(
    host: str,
    port: int,
    user: str,
    key_path: Path,
    *,
    host_key: str | None,
    known_hosts: Path | None,
    timeout: float,
) -> asyncssh.SSHClientConnection:
    """Open an authenticated SSH connection, verifying the host key strictly.

    *timeout* bounds the whole login (TCP connect, key exchange, authentication).
    """
    target = target_of(host, port)
    key_path = key_path.expanduser()
    key = _client_key(key_path)  # before any network traffic: a bad key fails fast
    trust = _Trust(host, port, host_key, known_hosts)
    deadline = time.monotonic() + timeout
    try:
        sock, _latency = await tcp_connect(host, port, timeout)
    except ConnectFailed as exc:
        raise FediError(str(exc)) from None

    client = _Client()
    addr = str(sock.getpeername()[0])
    try:
        async with asyncio.timeout(max(deadline - time.monotonic(), 0.1)):
            return await asyncssh.connect(
                host,
                port,
                sock=sock,
                config=None,
                client_factory=lambda: client,
                username=user,
                client_keys=[key],
                known_hosts=trust.arg,
                agent_path=None,
                agent_forwarding=False,
                password_auth=False,
                kbdint_auth=False,
                gss_auth=False,
                gss_kex=False,
                host_based_auth=False,
                preferred_auth="publickey",
                login_timeout=timeout,
                keepalive_interval=30,
                keepalive_count_max=4,
                encryption_algs=CIPHERS,
            )
    except BaseException as exc:
        sock.close()  # asyncssh owns it once connected; this covers failures on the way
        if not isinstance(exc, Exception):
            raise  # CancelledError, KeyboardInterrupt: propagate untouched
        failure = exc
    expected = trust.expected(host, addr, port)
    if isinstance(failure, asyncssh.HostKeyNotVerifiable):
        presented = client.presented
        revoked = trust.revoked(host, addr, port)
        if revoked and presented is None:
            # asyncssh refuses a revoked key without showing it: read it (key exchange only)
            remaining = max(deadline - time.monotonic(), 1.0)
            presented = await _offered_key(host, port, remaining)
        if presented is not None and openssh_line(presented) in revoked:
            raise FediError(trust.revoked_message(target, presented)) from None
        raise FediError(trust.message(target, presented, expected)) from None
    early_end = (asyncssh.KeyExchangeFailed, asyncssh.ConnectionLost, ConnectionError, EOFError)
    if isinstance(failure, early_end) and client.presented is None:
        # OpenSSH hangs up when it has no host key of the types we trust: find out
        # (unauthenticated) and name the key it does have.
        remaining = max(deadline - time.monotonic(), 1.0)
        other_type, presented = await _key_of_another_type(host, port, expected, remaining)
        if other_type:
            raise FediError(trust.message(target, presented, expected)) from None
    raise _explain(failure, target, user, key_path, key, timeout) from None


def _explain(
    exc: Exception, target: str, user: str, key_path: Path, key: asyncssh.SSHKey, timeout: float
) -> FediError:
    """The user-facing error for a failed login (host key problems are handled by the caller)."""
    who = f"{user}@{target}"
    if isinstance(exc, TimeoutError):
        return FediError(
            f"{target} accepted the connection but the SSH login as {user} did not finish "
            f"within {seconds(timeout)}: is sshd answering on this port? check the port, or "
            "raise the time limit for a slow machine"
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return FediError(
            f"{who} refused the key {key_path} ({key.get_fingerprint('sha256')}): add its "
            f"public key ({openssh_line(key)}) to {user}'s authorized keys on the machine "
            "(ssh.authorized_keys in fedi.toml), or check ssh.user and ssh.key"
        )
    if isinstance(exc, asyncssh.DisconnectError):
        return FediError(f"SSH login to {who} failed: {one_line(exc.reason) or type(exc).__name__}")
    if isinstance(exc, (ConnectionError, EOFError)):
        return FediError(
            f"{target} closed the connection during the SSH login "
            f"({one_line(exc) or type(exc).__name__}): is this an SSH port? check the port"
        )
    return FediError(f"SSH login to {who} failed: {type(exc).__name__}: {one_line(exc)}")
