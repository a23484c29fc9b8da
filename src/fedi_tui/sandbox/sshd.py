"""Real OpenSSH machines: Debian's ``/usr/sbin/sshd`` on a 127.0.0.N address.

Each host gets its own directory with an ed25519 host key, a client key,
``authorized_keys``, a known_hosts file that pins the host key, an
``sshd_config`` (validated with ``sshd -t``) and the server's log. The server
runs as ``sshd -D -e -f sshd_config`` in its own process group and is stopped by
its pid (its process group, so per-connection sshd processes go too).

The sandbox's machines and the tests' SSH hosts both come from
:func:`running_sshd` (the pytest fixtures are in ``tests/fixtures/sshd.py``).
Loopback only: :func:`running_sshd` refuses any address outside 127.0.0.0/8.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SSHD = "/usr/sbin/sshd"
DEFAULT_ADDRESS = "127.0.0.2"
FAST_USER = "fedi-test"
"""A user with /bin/sh: commands run ~10x faster than as root (root's .bashrc is slow here)."""
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class SshHost:
    """A running test sshd and everything a client needs to reach it with strict host keys."""

    address: str
    port: int
    user: str
    client_key: Path
    """Private key (OpenSSH format, no passphrase) listed in the host's authorized_keys."""
    host_public_key: str
    """The server's host key, ``ssh-ed25519 AAAA…`` (no comment): the value to pin."""
    known_hosts: Path
    """known_hosts with the single line ``[address]:port <host_public_key>``."""
    log: Path
    """sshd's output (``-e``: its log goes there)."""
    host_public_key_file: Path = field(default=Path())
    """The ``.pub`` file of the host key, for ``ssh-keygen -lf``."""
    directory: Path = field(default=Path())
    pid: int = 0
    authorized_keys: Path = field(default=Path())
    """The file sshd reads the client key from (writable by `user` with `writable_keys`)."""

    @property
    def known_hosts_line(self) -> str:
        return f"{known_hosts_pattern(self.address, self.port)} {self.host_public_key}"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``asyncssh.connect(host.address, **host.connect_kwargs())``.

        Hermetic and strict: the pinned known_hosts, only the client key, no agent,
        no ``~/.ssh/config``.
        """
        return {
            "port": self.port,
            "username": self.user,
            "client_keys": [str(self.client_key)],
            "known_hosts": str(self.known_hosts),
            "config": None,
            "agent_path": None,
        }

    def ssh_command(self, *remote: str) -> list[str]:
        """An OpenSSH ``ssh`` command line for this host (batch mode, strict host keys)."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.client_key),
            "-p",
            str(self.port),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            f"{self.user}@{self.address}",
            *remote,
        ]


class MissingTool(RuntimeError):
    """A program the sandbox needs is not installed."""


def known_hosts_pattern(address: str, port: int) -> str:
    """``[host]:port`` for ports other than 22, bare ``host`` for 22 (OpenSSH's rule)."""
    return address if port == 22 else f"[{address}]:{port}"


def ensure_user(name: str) -> str:
    """Create a login user with /bin/sh and no home directory, unless it exists (root only)."""
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        return name
    done = subprocess.run(
        ["useradd", "-M", "-s", "/bin/sh", "-p", "*", name], capture_output=True, text=True
    )
    try:
        pwd.getpwnam(name)  # another process may have created it at the same time
    except KeyError:
        raise RuntimeError(f"useradd {name} failed: {done.stderr.strip()}") from None
    return name


def free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def _keygen(path: Path) -> str:
    """Write an ed25519 key pair at *path* (+ .pub) unless there is one (a host that starts
    again keeps its host key); return the public line without comment."""
    public = path.with_name(path.name + ".pub")
    if not (path.exists() and public.exists()):
        path.unlink(missing_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
    kind, blob = public.read_text().split()[:2]
    return f"{kind} {blob}"


def _check_loopback(address: str) -> None:
    ip = ipaddress.ip_address(address)
    if ip.version != 4 or not ip.is_loopback:
        raise ValueError(f"test sshd must listen on 127.0.0.0/8, not {address}")


def _config(
    directory: Path, address: str, port: int, authorized_keys: Path, extra: Sequence[str] = ()
) -> str:
    return "\n".join(
        [
            f"ListenAddress {address}",
            f"Port {port}",
            f"HostKey {directory / 'ssh_host_ed25519_key'}",
            f"PidFile {directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized_keys}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "Subsystem sftp internal-sftp",
            *extra,
            "",
        ]
    )


def _wait_listening(proc: subprocess.Popen[bytes], address: str, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text().strip()}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd did not listen on {address}:{port} within {START_TIMEOUT} s: "
                    f"{log.read_text().strip()}"
                ) from None
            time.sleep(0.01)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop sshd and the per-connection sshd processes of its group, by sshd's pid.

    The group is signalled only while its leader is still unreaped, so the id
    cannot belong to anyone else (sshd was started with start_new_session=True).
    """
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running_sshd(
    directory: Path,
    *,
    address: str = DEFAULT_ADDRESS,
    user: str | None = None,
    extra_config: Sequence[str] = (),
    keys_dir: Path | None = None,
    port: int | None = None,
    client_key: Path | None = None,
    wrap: Sequence[str] = (),
) -> Iterator[SshHost]:
    """Start a test sshd in *directory* (created if needed), yield its :class:`SshHost`, stop it.

    *user* defaults to the current user; another name is created with
    :func:`ensure_user` if missing (needs root). For such a user the
    authorized_keys file lives in a world-readable temp directory (sshd reads it
    as that user), removed again at the end — or in *keys_dir*, a directory the
    caller made (e.g. one the user owns, so commands on the host can take the key
    away: "the new configuration refused fedi-tui's login"). *extra_config* lines
    go at the end of sshd_config (e.g. ``SetEnv PATH=…``). *port* (e.g. 22, as root)
    replaces a free one; *client_key* is an existing private key to accept instead of a
    new one (several hosts that one runtime's ssh.key logs in to). *wrap* goes before
    the sshd command line (a program that then runs it, keeping its pid: e.g. one that
    gives it a mount namespace of its own).
    """
    _check_loopback(address)
    fixed_port = port
    if not Path(SSHD).is_file():
        raise MissingTool(f"{SSHD} is not installed (apt install openssh-server)")
    run_sshd = Path("/run/sshd")  # privilege-separation directory; systemd normally makes it
    if not run_sshd.is_dir():
        run_sshd.mkdir(parents=True, exist_ok=True)
        run_sshd.chmod(0o755)
    me = pwd.getpwuid(os.getuid()).pw_name
    user = user or me
    if user != me:
        ensure_user(user)

    directory.mkdir(parents=True, exist_ok=True)
    host_public_key = _keygen(directory / "ssh_host_ed25519_key")
    if client_key is None:
        client_public_key = _keygen(directory / "client_ed25519")
    else:
        shutil.copyfile(client_key, directory / "client_ed25519")
        (directory / "client_ed25519").chmod(0o600)
        shutil.copyfile(f"{client_key}.pub", directory / "client_ed25519.pub")
        client_public_key = " ".join((directory / "client_ed25519.pub").read_text().split()[:2])
    shared: Path | None = None
    if keys_dir is not None:
        authorized_keys = keys_dir / "authorized_keys"
    elif user == me:
        authorized_keys = directory / "authorized_keys"
    else:
        shared = Path(tempfile.mkdtemp(prefix="fedi-sshd-keys-"))
        shared.chmod(0o755)
        authorized_keys = shared / "authorized_keys"
    authorized_keys.write_text(client_public_key + "\n")
    authorized_keys.chmod(0o644)

    log = directory / "sshd.log"
    config = directory / "sshd_config"
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # a free port can be taken between probe and bind
            port = fixed_port or free_port(address)
            config.write_text(_config(directory, address, port, authorized_keys, extra_config))
            check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"sshd -t -f {config}: {check.stderr.strip()}")
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    [*wrap, SSHD, "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                _wait_listening(proc, address, port, log)
                break
            except RuntimeError:
                _stop(proc)
                if "Address already in use" not in log.read_text():
                    raise
        else:
            raise RuntimeError(f"sshd could not bind a free port on {address}: see {log}")
        known_hosts = directory / "known_hosts"
        known_hosts.write_text(f"{known_hosts_pattern(address, port)} {host_public_key}\n")
        yield SshHost(
            address=address,
            port=port,
            user=user,
            client_key=directory / "client_ed25519",
            host_public_key=host_public_key,
            known_hosts=known_hosts,
            log=log,
            host_public_key_file=directory / "ssh_host_ed25519_key.pub",
            directory=directory,
            pid=proc.pid,
            authorized_keys=authorized_keys,
        )
    finally:
        if proc is not None:
            _stop(proc)
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
