"""PostgreSQL data over SSH: `pg_dump -Fc` streamed into a file or straight into `pg_restore`.

The dump is never staged on the machine: its bytes come over fedi-tui's SSH
channel as pg_dump writes them. Between two machines (a migration) they go
through fedi-tui's own two connections — source and target need not reach each
other — with a small bounded buffer, so a slow side slows the other down instead
of filling memory. Each transfer hashes what it moved (SHA-256).

The commands run behind the runtime's `deploy.database_command` (default
`sudo -n -u postgres`: PostgreSQL's superuser over the local socket, as NixOS
sets it up); which database comes from the app module (`DataNeed.database`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_tui.core.deploy.ports import LineSink, MachineShell
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import CHUNK
from fedi_tui.core.portability.progress import Meter

QUEUE_CHUNKS = 16
"""Chunks buffered between the dumping and the restoring machine (16 × 256 KiB)."""


@dataclass(frozen=True)
class Database:
    """One app instance's database on one machine, and how to reach it there."""

    shell: MachineShell
    name: str
    prefix: Sequence[str] = ()
    """`deploy.database_command`, put before every PostgreSQL command."""

    def dump_argv(self) -> list[str]:
        return [*self.prefix, "pg_dump", "--format=custom", "--no-password", self.name]

    def restore_argv(self) -> list[str]:
        """Drop and re-create the database from the archive (its owner must exist), stopping
        at the first error."""
        return [
            *self.prefix,
            "pg_restore",
            "--clean",
            "--if-exists",
            "--create",
            "--exit-on-error",
            "--no-password",
            "--dbname=postgres",
        ]


@dataclass(frozen=True)
class Moved:
    """What a transfer moved: bytes and their SHA-256."""

    size: int
    sha256: str


def file_digest(path: Path) -> Moved:
    """Size and SHA-256 of a local file."""
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
            size += len(chunk)
    return Moved(size, sha.hexdigest())


async def dump_to_file(
    db: Database, path: Path, meter: Meter | None = None, on_line: LineSink | None = None
) -> Moved:
    """`pg_dump` on the machine into a new local file `path` (owner-only).

    The file is written under a temporary name and renamed into place only when
    pg_dump succeeded: an interrupted or failed dump leaves no file at `path`.
    """
    sha = hashlib.sha256()
    tmp = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with tmp.open("wb") as out:
            tmp.chmod(0o600)

            async def sink(chunk: bytes) -> None:
                out.write(chunk)
                sha.update(chunk)
                if meter is not None:
                    meter.add(len(chunk))

            size = await db.shell.stream_out(db.dump_argv(), sink, on_line=on_line)
        if size == 0:
            raise FediError(
                f"{db.shell.target}: pg_dump of {db.name} wrote nothing; check that the "
                "database exists and deploy.database_command reaches the server"
            )
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Moved(size, sha.hexdigest())


async def _file_chunks(path: Path, sha: Any, meter: Meter | None) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
            if meter is not None:
                meter.add(len(chunk))
            yield chunk


async def restore_from_file(
    db: Database,
    path: Path,
    meter: Meter | None = None,
    on_line: LineSink | None = None,
    expect_sha256: str | None = None,
) -> Moved:
    """Feed a dump file to `pg_restore` on the machine (the database is dropped and re-made).

    With `expect_sha256`, the bytes sent are checked against it afterwards as well.
    """
    sha = hashlib.sha256()
    size = await db.shell.stream_in(
        db.restore_argv(), _file_chunks(path, sha, meter), on_line=on_line
    )
    moved = Moved(size, sha.hexdigest())
    if expect_sha256 is not None and moved.sha256 != expect_sha256:
        raise FediError(f"{path}: changed while it was restored; check the backup and run again")
    return moved


async def transfer(
    source: Database,
    target: Database,
    meter: Meter | None = None,
    on_source_line: LineSink | None = None,
    on_target_line: LineSink | None = None,
) -> Moved:
    """`pg_dump` on the source straight into `pg_restore` on the target, through fedi-tui.

    Either side failing stops the other (its remote command is killed); the error is the
    first failure's. Only the source is read; the target database is replaced.
    """
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
    sha = hashlib.sha256()

    async def sink(chunk: bytes) -> None:
        await queue.put(chunk)

    async def dump() -> None:
        await source.shell.stream_out(source.dump_argv(), sink, on_line=on_source_line)
        await queue.put(None)

    async def chunks() -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not None:
            sha.update(chunk)
            if meter is not None:
                meter.add(len(chunk))
            yield chunk

    async def restore() -> int:
        return await target.shell.stream_in(target.restore_argv(), chunks(), on_line=on_target_line)

    size = await first_error(dump(), restore())
    return Moved(size, sha.hexdigest())


async def first_error(dump: Awaitable[None], restore: Awaitable[int]) -> int:
    """Run both; when one fails, cancel the other and raise the failure (not a group)."""
    tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(dump), asyncio.ensure_future(restore)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    result = tasks[1].result()
    assert isinstance(result, int)
    return result
