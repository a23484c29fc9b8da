"""Binary streams over SSH: a remote command's stdout into a local sink, or stdin from a source.

What `pg_dump -Fc` and `pg_restore` need (backup, restore, migration): the bytes
are passed on as they come, never staged on the machine. The channel is opened
with ``encoding=None`` (raw bytes); stderr is still read as lines (control
characters made visible) for the log and for the error on failure. As with
:meth:`fedi_tui.adapters.ssh.SshMachine.run`, the login shell ``exec``\\ s the
command, so cancelling stops it (SIGTERM, then SIGKILL) and the channel closes.
"""

from __future__ import annotations

import asyncio
import shlex
from collections import deque
from collections.abc import Sequence
from typing import Literal

import asyncssh

from fedi_tui.adapters.ssh import STDERR_TAIL, _all_or_first_error, _ended, _quote, _stop
from fedi_tui.adapters.tcpconnect import one_line
from fedi_tui.core.deploy.ports import LineSink
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import CHUNK, ByteSink, ByteSource
from fedi_tui.core.text import visible

Proc = asyncssh.SSHClientProcess[bytes]


class _Failed(Exception):
    """The caller's sink or source raised: its error, not the connection's."""


async def stream_out(
    conn: asyncssh.SSHClientConnection,
    target: str,
    argv: Sequence[str],
    sink: ByteSink,
    on_line: LineSink | None = None,
) -> int:
    """Run *argv*, handing its stdout bytes to *sink*; returns how many bytes came."""
    received = 0

    async def pump_out(proc: Proc) -> None:
        nonlocal received
        while chunk := await proc.stdout.read(CHUNK):
            received += len(chunk)
            try:
                await sink(chunk)
            except Exception as exc:
                raise _Failed() from exc

    await _session(conn, target, argv, on_line, pump_out, stdin=False)
    return received


async def stream_in(
    conn: asyncssh.SSHClientConnection,
    target: str,
    argv: Sequence[str],
    source: ByteSource,
    on_line: LineSink | None = None,
) -> int:
    """Run *argv*, feeding its stdin from *source*; returns how many bytes were sent."""
    sent = 0

    async def feed(proc: Proc) -> None:
        nonlocal sent
        iterator = aiter(source)
        while True:
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise _Failed() from exc
            if not chunk:
                continue
            proc.stdin.write(chunk)
            await proc.stdin.drain()
            sent += len(chunk)
        proc.stdin.write_eof()

    async def out_lines(proc: Proc) -> None:
        await _lines(proc.stdout, "stdout", on_line, None)

    async def both(proc: Proc) -> None:
        await _all_or_first_error(
            [asyncio.create_task(feed(proc)), asyncio.create_task(out_lines(proc))]
        )

    await _session(conn, target, argv, on_line, both, stdin=True)
    return sent


async def _lines(
    reader: asyncssh.SSHReader[bytes],
    stream: Literal["stdout", "stderr"],
    on_line: LineSink | None,
    tail: deque[str] | None,
) -> None:
    while raw := await reader.readline():
        line = visible(raw.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r"))
        if tail is not None:
            tail.append(line)
        if on_line is not None:
            try:
                on_line(stream, line)
            except Exception as exc:
                raise _Failed() from exc


async def _session(
    conn: asyncssh.SSHClientConnection,
    target: str,
    argv: Sequence[str],
    on_line: LineSink | None,
    work: object,
    *,
    stdin: bool,
) -> None:
    if isinstance(argv, str) or not argv:
        raise ValueError("argv must be a non-empty sequence of arguments, not a string")
    shown = shlex.join(argv)
    tail: deque[str] = deque(maxlen=STDERR_TAIL)
    try:
        proc: Proc = await conn.create_process(
            "exec " + shown, stdin=asyncssh.PIPE if stdin else asyncssh.DEVNULL, encoding=None
        )
    except asyncssh.Error as exc:
        raise FediError(f"cannot start `{shown}` on {target}: {one_line(exc.reason)}") from None
    except (ConnectionError, OSError) as exc:
        raise FediError(f"cannot start `{shown}` on {target}: {exc}") from None
    assert callable(work)
    tasks = [
        asyncio.create_task(work(proc)),
        asyncio.create_task(_lines(proc.stderr, "stderr", on_line, tail)),
    ]
    try:
        await _all_or_first_error(tasks)
        await proc.wait_closed()
    except BaseException as exc:
        for task in tasks:
            task.cancel()
        await _stop(proc)
        if isinstance(exc, _Failed) and exc.__cause__ is not None:
            raise exc.__cause__ from None
        if isinstance(exc, (asyncssh.Error, OSError, BrokenPipeError)):
            status = proc.returncode
            if status is not None and status != 0:
                raise FediError(f"`{shown}` on {target} {_ended(status)}{_quote(tail)}") from None
            reason = one_line(getattr(exc, "reason", None) or exc)
            raise FediError(
                f"lost the connection to {target} while `{shown}` ran ({reason}); "
                f"it may still be running there{_quote(tail)}"
            ) from None
        raise
    status = proc.returncode
    if status is None:
        raise FediError(f"lost the connection to {target} while `{shown}` ran{_quote(tail)}")
    if status != 0:
        raise FediError(f"`{shown}` on {target} {_ended(status)}{_quote(tail)}")
