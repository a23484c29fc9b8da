"""Objects between buckets, or between a bucket and a local directory, in parallel, verified.

Every object is read once from its source, hashed here (SHA-256 for the record,
MD5 for the storage's own check) and written with Content-MD5; the size read
must be the size listed, and the target's ETag must be the MD5 of what was
sent. A `VerifiedRecord` (JSON lines, one per verified object, appended as each
one is done) makes a copy resumable: a re-run skips the objects it lists when
the source still has them unchanged and the target still holds them.

Bodies pass through a spooled temporary file (in memory up to `SPOOL_BYTES`,
then on disk): a big object never sits whole in memory. `concurrency` objects
move at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TypeVar

from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import BucketObjects, ObjectInfo, ObjectRead
from fedi_tui.core.portability.progress import Meter

SPOOL_BYTES = 8 * 1024 * 1024
CONCURRENCY = 8

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class VerifiedObject:
    """An object copied and verified: its key, size, the source's ETag, its checksums and
    the target's ETag."""

    key: str
    size: int
    sha256: str
    md5: str
    source_etag: str
    target_etag: str = ""


class VerifiedRecord:
    """`verified.jsonl`: which objects a copy has verified so far (appended, flushed each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.objects: dict[str, VerifiedObject] = {}
        self._file: IO[str] | None = None
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = VerifiedObject(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line torn by a kill: that object is copied again
                self.objects[entry.key] = entry

    def add(self, entry: VerifiedObject) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        self._file.flush()
        self.objects[entry.key] = entry

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> VerifiedRecord:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class CopyReport:
    copied: tuple[VerifiedObject, ...]
    skipped: int
    bytes: int

    @property
    def objects(self) -> int:
        return len(self.copied) + self.skipped


def _checked(source: BucketObjects, info: ObjectInfo, read: ObjectRead) -> None:
    if read.size != info.size:
        raise FediError(
            f"{source.where}: {info.key!r} has {read.size} bytes, the listing said {info.size}: "
            "it changed while being copied; stop the apps that write to it and run again"
        )
    if info.etag and "-" not in info.etag and read.md5 != info.etag:
        raise FediError(
            f"{source.where}: {info.key!r} read back with MD5 {read.md5}, the storage lists "
            f"{info.etag}: it changed or arrived damaged; run again"
        )


async def copy_objects(
    source: BucketObjects,
    target: BucketObjects,
    *,
    record: VerifiedRecord | None = None,
    meter: Meter | None = None,
    concurrency: int = CONCURRENCY,
) -> CopyReport:
    """Copy every object of `source` to `target` (same keys); only `source` is read."""
    listed = await source.list()
    already: dict[str, ObjectInfo] = {}
    if record is not None and record.objects:
        already = {o.key: o for o in await target.list()}
    todo: list[ObjectInfo] = []
    skipped = 0
    if meter is not None:
        meter.total_objects = len(listed)
        meter.total_bytes = sum(o.size for o in listed)
    for info in listed:
        done = record.objects.get(info.key) if record is not None else None
        there = already.get(info.key)
        if (
            done is not None
            and there is not None
            and done.size == info.size == there.size
            and done.source_etag == info.etag
            and (not done.target_etag or done.target_etag == there.etag)
        ):
            skipped += 1
            if meter is not None:
                meter.skip(1, info.size)
            continue
        todo.append(info)

    async def one(info: ObjectInfo) -> VerifiedObject:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            read = await source.get(info.key, spool)  # type: ignore[arg-type]
            _checked(source, info, read)
            spool.seek(0)
            etag = await target.put(info.key, spool, read.size, read.md5)  # type: ignore[arg-type]
        entry = VerifiedObject(info.key, read.size, read.sha256, read.md5, info.etag, etag)
        if record is not None:
            record.add(entry)
        if meter is not None:
            meter.add(read.size, 1)
        return entry

    copied = await bounded(todo, one, concurrency)
    return CopyReport(tuple(copied), skipped, sum(c.size for c in copied))


@dataclass(frozen=True)
class StoredObject:
    """An object kept in a local directory: its key, size and SHA-256 (the file's name)."""

    key: str
    size: int
    sha256: str
    md5: str


def stored_path(directory: Path, sha256: str) -> Path:
    """Objects are stored by content: `<dir>/<first two hex digits>/<sha256>`."""
    return directory / sha256[:2] / sha256


async def download_objects(
    source: BucketObjects,
    directory: Path,
    *,
    meter: Meter | None = None,
    concurrency: int = CONCURRENCY,
) -> list[StoredObject]:
    """Every object of `source` into `directory`, by content; returns them by key."""
    listed = await source.list()
    if meter is not None:
        meter.total_objects = len(listed)
        meter.total_bytes = sum(o.size for o in listed)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def one(info: ObjectInfo) -> StoredObject:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".partial-")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                read = await source.get(info.key, out)
            _checked(source, info, read)
            final = stored_path(directory, read.sha256)
            final.parent.mkdir(exist_ok=True, mode=0o700)
            tmp.replace(final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if meter is not None:
            meter.add(read.size, 1)
        return StoredObject(info.key, read.size, read.sha256, read.md5)

    return sorted(await bounded(listed, one, concurrency), key=lambda o: o.key)


async def upload_objects(
    objects: Iterable[StoredObject],
    directory: Path,
    target: BucketObjects,
    *,
    meter: Meter | None = None,
    concurrency: int = CONCURRENCY,
) -> int:
    """Put each stored object back under its key; returns the bytes sent."""
    items = list(objects)
    if meter is not None:
        meter.total_objects = len(items)
        meter.total_bytes = sum(o.size for o in items)

    async def one(item: StoredObject) -> int:
        with stored_path(directory, item.sha256).open("rb") as data:
            await target.put(item.key, data, item.size, item.md5)
        if meter is not None:
            meter.add(item.size, 1)
        return item.size

    return sum(await bounded(items, one, concurrency))


async def bounded(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], concurrency: int
) -> list[R]:
    """Run `work` on every item, `concurrency` at a time; the first failure cancels the rest
    and is raised as it is (not as an exception group)."""
    pending = iter(items)
    results: list[R] = []

    async def worker() -> None:
        for item in pending:
            results.append(await work(item))

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results
