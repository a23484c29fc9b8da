"""Ports for moving data: byte streams to and from remote commands, objects in buckets.

The machine side extends `MachineShell` (`stream_out`, `stream_in` in
`core.deploy.ports`); the object side is `BucketObjects`, one bucket of one
storage reached with an application's own key (`ObjectStore.bucket`). Nothing here
does I/O. Failures are `FediError`s naming the machine or the storage and bucket.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

ByteSink = Callable[[bytes], Awaitable[None]]
"""Receives a remote command's stdout, chunk by chunk, as it arrives. It may wait (that is
the back-pressure: the command's output is not read on while it waits)."""
ByteSource = AsyncIterable[bytes]
"""What is fed to a remote command's stdin, chunk by chunk; its end closes stdin (EOF)."""

CHUNK = 256 * 1024
"""Bytes per chunk that adapters read and write at once."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object as a bucket listing reports it."""

    key: str
    size: int
    etag: str
    """The storage's ETag without quotes (for a single-part upload: the MD5 of the content)."""


@dataclass(frozen=True)
class ObjectRead:
    """What `BucketObjects.get` copied: the bytes written out, hashed locally."""

    size: int
    sha256: str
    md5: str
    etag: str
    """The ETag the storage sent with the object."""


class BucketObjects(Protocol):
    """One bucket of a storage, used with an application's key (listing, get, put, head).

    `get` and `put` move the body through a local binary file (any object with `read`/
    `write`), in chunks, never the whole object in memory.
    """

    bucket: str
    where: str
    """`storage NAME (endpoint) bucket B`, as messages name it."""

    async def list(self) -> list[ObjectInfo]:
        """Every object (all pages of the listing), by key."""
        ...

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size and ETag, or None when it does not exist."""
        ...

    async def get(self, key: str, out: BinaryIO) -> ObjectRead:
        """Write the object's body to `out`; returns its size and checksums, computed here."""
        ...

    async def put(self, key: str, data: BinaryIO, size: int, md5: str) -> str:
        """Store `size` bytes read from `data` under `key`; returns the ETag.

        `md5` (hex) of the content goes along as Content-MD5, so the storage refuses a body
        that arrived damaged; a single-part ETag other than `md5` is reported as a failure.
        """
        ...

    async def delete(self, key: str) -> None: ...
