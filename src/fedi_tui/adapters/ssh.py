"""A NixOS machine over SSH: run commands streaming their output, push files, activate.

The apply engine's port to a machine::

    async with SshMachine.connect(host, port, user, key_path, host_key=pinned,
                                  known_hosts=None, timeout=10) as m:
        await m.push_tree(rendered.files, "/etc/nixos/fedi")
        await m.put_file("/var/lib/fedi/secrets/db-password", secret, mode=0o600)
        await m.activate("/etc/nixos/fedi", on_line=show)

* Logging in (:mod:`fedi_tui.adapters.sshlogin`): strict host keys — a pinned
  ``host_key`` or a known_hosts file, never none — and only the key file given.
* :meth:`SshMachine.run` quotes the argument vector with :func:`shlex.join`,
  hands every line of stdout and stderr to ``on_line`` as it arrives (control
  characters made visible, like all text from the machine in errors) and
  returns the exit status (a signal number as its negative). The login shell
  runs it with ``exec``, so it leads the session's process group and sshd's
  signals reach it and its children: cancelling the task (Ctrl+C) sends
  SIGTERM (SIGKILL after :data:`STOP_GRACE` seconds), closes the channel and
  re-raises :class:`asyncio.CancelledError`. (A child that outlives the
  command and ignores SIGTERM cannot be reached that way: sshd only signals
  while the command itself runs.)
* :meth:`SshMachine.put_file` and :meth:`SshMachine.push_tree`
  (:mod:`fedi_tui.adapters.sftpfiles`): atomic SFTP writes, private from the
  first byte; stale files removed only inside the managed directory.
* :meth:`SshMachine.activate` runs ``nixos-rebuild switch -I
  nixos-config=<dir>/configuration.nix`` (the command is configurable).

Failures are :class:`FediError` naming the machine; nothing here prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import shlex
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import asyncssh

from fedi_tui.adapters.sftpfiles import PushResult, check_absolute, make_dirs, push_tree, write_file
from fedi_tui.adapters.sshlogin import login, openssh_line
from fedi_tui.adapters.tcpconnect import one_line, target_of
from fedi_tui.core.errors import FediError
from fedi_tui.core.text import visible

__all__ = [
    "ACTIVATE_COMMAND",
    "LineCallback",
    "PushResult",
    "SshMachine",
    "Stream",
]

Stream = Literal["stdout", "stderr"]
LineCallback = Callable[[Stream, str], None]
"""Called with each output line (without its line ending) as it arrives, with control
characters but tab shown as escapes (:func:`fedi_tui.core.text.visible`): a remote
command's output can hold terminal escape sequences."""

ACTIVATE_COMMAND: tuple[str, ...] = ("nixos-rebuild", "switch", "-I", "nixos-config={config}")
"""``{config}`` becomes ``<remote_dir>/configuration.nix``, ``{dir}`` the directory."""

STDERR_TAIL = 20
"""Lines of stderr quoted in the error when a command fails."""
STOP_GRACE = 5.0
"""Seconds a cancelled command gets to exit after SIGTERM before SIGKILL."""


class SshMachine:
    """One logged-in SSH connection to a machine. Make it with :meth:`connect`."""

    def __init__(self, conn: asyncssh.SSHClientConnection, user: str, host: str, port: int):
        self._conn = conn
        self._sftp: asyncssh.SFTPClient | None = None
        self.target = f"{user}@{target_of(host, port)}"
        """``user@host:port``, as errors name the machine."""
        server_key = conn.get_server_host_key()
        self.host_key = openssh_line(server_key) if server_key is not None else None
        """The verified host key the server presented (``ssh-ed25519 AAAA…``)."""

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        host: str,
        port: int,
        user: str,
        key_path: Path | str,
        *,
        host_key: str | None = None,
        known_hosts: Path | None = None,
        timeout: float = 15.0,
    ) -> AsyncIterator[SshMachine]:
        """Log in and yield the machine; the connection closes when the block ends.

        Trust: *host_key* (an OpenSSH public key line pinned in fedi.toml) if
        given, otherwise the *known_hosts* file (default ``~/.ssh/known_hosts``).
        Only *key_path* is offered for authentication. *timeout* bounds the login.
        """
        conn = await login(
            host,
            port,
            user,
            Path(key_path),
            host_key=host_key,
            known_hosts=known_hosts,
            timeout=timeout,
        )
        machine = cls(conn, user, host, port)
        try:
            yield machine
        finally:
            await machine._close()

    @property
    def connection(self) -> asyncssh.SSHClientConnection:
        """The logged-in connection (for :mod:`fedi_tui.adapters.sshstream`)."""
        return self._conn

    async def close(self) -> None:
        """Close the connection (`connect`'s block does this by itself)."""
        await self._close()

    async def sftp(self) -> asyncssh.SFTPClient:
        """The connection's SFTP client, started on first use."""
        return await self._sftp_client()

    async def _close(self) -> None:
        if self._sftp is not None:
            self._sftp.exit()
            self._sftp = None
        self._conn.close()
        with contextlib.suppress(TimeoutError, asyncssh.Error, OSError):
            async with asyncio.timeout(5.0):
                await self._conn.wait_closed()

    # --- commands --------------------------------------------------------------

    async def run(
        self, argv: Sequence[str], *, on_line: LineCallback | None = None, check: bool = True
    ) -> int:
        """Run *argv* on the machine, streaming its output; return the exit status.

        With *check*, a non-zero status raises :class:`FediError` with the
        status and the last lines of stderr. A command killed by a signal
        returns minus the signal number. ``argv[0]`` must be a program, not a
        shell builtin (the login shell runs it with ``exec``). For a time
        limit, wrap the call in :func:`asyncio.timeout`; cancelling stops the
        remote command.
        """
        status, tail = await self._execute(argv, on_line)
        if check and status != 0:
            raise FediError(f"`{shlex.join(argv)}` on {self.target} {_ended(status)}{_quote(tail)}")
        return status

    async def _execute(
        self, argv: Sequence[str], on_line: LineCallback | None
    ) -> tuple[int, list[str]]:
        if isinstance(argv, str) or not argv:
            raise ValueError("argv must be a non-empty sequence of arguments, not a string")
        # `exec`: the login shell becomes the command, so sshd's signals (sent to the
        # session's process group only while its leader lives) reach it on cancel.
        command = "exec " + shlex.join(argv)
        tail: deque[str] = deque(maxlen=STDERR_TAIL)
        consumer_failed: list[BaseException] = []
        try:
            proc = await self._conn.create_process(
                command, stdin=asyncssh.DEVNULL, encoding="utf-8", errors="replace"
            )
        except asyncssh.Error as exc:
            raise FediError(
                f"cannot start `{shlex.join(argv)}` on {self.target}: {one_line(exc.reason)}"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise FediError(f"cannot start `{shlex.join(argv)}` on {self.target}: {exc}") from None

        async def pump(stream: Stream, reader: asyncssh.SSHReader[str]) -> None:
            while raw := await reader.readline():
                # what a machine prints reaches terminals and log files: controls made visible
                line = visible(raw.removesuffix("\n").removesuffix("\r"))
                if stream == "stderr":
                    tail.append(line)
                if on_line is not None:
                    try:
                        on_line(stream, line)
                    except BaseException as exc:
                        consumer_failed.append(exc)  # the caller's error, not the connection's
                        raise

        pumps = [
            asyncio.create_task(pump("stdout", proc.stdout)),
            asyncio.create_task(pump("stderr", proc.stderr)),
        ]
        try:
            await _all_or_first_error(pumps)
            await proc.wait_closed()
        except BaseException as exc:
            # Cancelled (Ctrl+C), on_line raised, or the connection broke: the remote
            # command must not live on. (sshd signals the command's process group.)
            for task in pumps:
                task.cancel()
            await _stop(proc)
            ours = any(exc is failed for failed in consumer_failed)
            if not ours and isinstance(exc, (asyncssh.Error, OSError)):
                raise self._lost(argv, tail, exc) from None
            raise
        status = proc.returncode
        if status is None:
            raise self._lost(argv, tail, None)
        return status, list(tail)

    def _lost(
        self, argv: Sequence[str], tail: Sequence[str], exc: BaseException | None
    ) -> FediError:
        reason = f" ({one_line(getattr(exc, 'reason', None) or exc)})" if exc is not None else ""
        return FediError(
            f"lost the connection to {self.target} while `{shlex.join(argv)}` ran{reason}; "
            f"it may still be running there{_quote(tail)}"
        )

    async def activate(
        self,
        remote_dir: str,
        *,
        on_line: LineCallback | None = None,
        command: Sequence[str] = ACTIVATE_COMMAND,
    ) -> int:
        """Switch the machine to the configuration in *remote_dir*, streaming the output.

        Raises :class:`FediError` with nixos-rebuild's last lines if it fails.
        """
        check_absolute(remote_dir)
        config = posixpath.join(remote_dir, "configuration.nix")
        argv = [arg.replace("{config}", config).replace("{dir}", remote_dir) for arg in command]
        status, tail = await self._execute(argv, on_line)
        if status != 0:
            raise FediError(
                f"activating {config} on {self.target} failed: `{shlex.join(argv)}` "
                f"{_ended(status)}{_quote(tail)}"
            )
        return status

    # --- files -----------------------------------------------------------------

    async def _sftp_client(self) -> asyncssh.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = await self._conn.start_sftp_client()
            except (asyncssh.Error, OSError) as exc:
                reason = one_line(getattr(exc, "reason", exc))
                raise FediError(
                    f"{self.target}: cannot start SFTP ({reason}): fedi-tui copies files with "
                    "SFTP; enable the sftp subsystem in the machine's sshd (NixOS has it on)"
                ) from None
        return self._sftp

    async def put_file(self, remote_path: str, data: bytes, *, mode: int = 0o600) -> None:
        """Write *data* to *remote_path* atomically with *mode* set before any content.

        Missing parent directories are created with mode 0700.
        """
        check_absolute(remote_path)
        sftp = await self._sftp_client()
        await make_dirs(sftp, posixpath.dirname(remote_path), self.target)
        await write_file(sftp, remote_path, data, mode=mode, where=self.target)

    async def push_tree(
        self, local_files: Mapping[str, str], remote_dir: str, *, mode: int = 0o600
    ) -> PushResult:
        """Make *remote_dir* hold exactly *local_files* (relative path → text).

        Each file is replaced atomically; files under *remote_dir* that are not
        in the mapping are removed afterwards. A directory that already holds
        files fedi-tui did not put there is refused.
        """
        sftp = await self._sftp_client()
        return await push_tree(sftp, local_files, remote_dir, mode=mode, where=self.target)


async def _all_or_first_error(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every task; on the first failure cancel the rest and raise that error."""
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


async def _stop(proc: asyncssh.SSHClientProcess[Any]) -> None:
    """Stop a remote command: SIGTERM, SIGKILL after a grace period, then close the channel."""
    for signal, wait in (("TERM", STOP_GRACE), ("KILL", 2.0)):
        with contextlib.suppress(asyncssh.Error, OSError):
            proc.send_signal(signal)
        try:
            async with asyncio.timeout(wait):
                await proc.wait_closed()
            return
        except TimeoutError:
            continue
        except (asyncssh.Error, OSError):
            break
    proc.close()


def _ended(status: int) -> str:
    return f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"


def _quote(tail: Sequence[str]) -> str:
    lines = [line for line in tail if line.strip()]
    if not lines:
        return " (no output on stderr)"
    return "; last lines of stderr:\n" + "\n".join(f"  {line}" for line in lines)
