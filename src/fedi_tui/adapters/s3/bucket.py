"""One bucket's objects over S3 (the core's ``BucketObjects`` port): list, head, get, put.

Bodies move in chunks through local binary files (never a whole object in
memory); each ``get`` hashes what it wrote (SHA-256 and MD5), each ``put``
sends Content-MD5 so the storage refuses a damaged body, and a single-part
ETag that is not the MD5 of what was sent is a failure. Blocking boto3 calls run
in :func:`asyncio.to_thread`; errors name the storage, the bucket and the key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import TYPE_CHECKING, Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from fedi_tui.adapters.s3.transport import S3Transport
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import CHUNK, BucketObjects, ObjectInfo, ObjectRead

__all__ = ["S3Bucket"]

MAX_SINGLE_PUT = 5 * 1024**3
"""S3's limit for one PutObject."""


def _etag(value: object) -> str:
    return str(value or "").strip('"')


class S3Bucket:
    """``S3Bucket(transport, bucket, access_key_id, secret)``; the client is made on first use."""

    def __init__(
        self,
        transport: S3Transport,
        bucket: str,
        access_key_id: str,
        secret: str,
        *,
        page_size: int = 1000,
    ) -> None:
        self._transport = transport
        self._page_size = page_size
        self.bucket = bucket
        self._key_id = access_key_id
        self._secret = secret
        self._s3: Any = None
        self.where = f"{transport.prefix}: bucket {bucket} (key {access_key_id})"

    def __repr__(self) -> str:
        return f"S3Bucket({self._transport.name!r}, {self.bucket!r})"

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = self._transport.client(self._key_id, self._secret)
        return self._s3

    def _fail(self, exc: Exception, verb: str, key: str | None) -> FediError:
        what = f"{verb} {self._transport.scrub(key)!r}" if key is not None else verb
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            code = self._transport.scrub(str(error.get("Code", "")))
            advice = {
                "NoSuchBucket": "the bucket does not exist: apply the deployment first",
                "AccessDenied": "the key may not do that: allow it read and write on the bucket",
                "BadDigest": "the body arrived damaged: run again",
                "InvalidDigest": "the body arrived damaged: run again",
            }.get(code, "check the storage (`fedi-tui storage status`) and run again")
            return FediError(f"{self.where}: {what} failed (HTTP {status} {code}); {advice}")
        if isinstance(exc, FediError):
            return FediError(f"{self.where}: {what}: {exc}")
        return FediError(f"{self.where}: {what} failed: {self._transport.scrub(str(exc))}")

    async def list(self) -> list[ObjectInfo]:
        def run() -> list[ObjectInfo]:
            out: list[ObjectInfo] = []
            token: str | None = None
            try:
                s3 = self._client()
                while True:
                    kwargs: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": self._page_size}
                    if token:
                        kwargs["ContinuationToken"] = token
                    page = s3.list_objects_v2(**kwargs)
                    for item in page.get("Contents", ()):
                        out.append(
                            ObjectInfo(str(item["Key"]), int(item["Size"]), _etag(item["ETag"]))
                        )
                    token = page.get("NextContinuationToken")
                    if not page.get("IsTruncated") or not token:
                        return sorted(out, key=lambda o: o.key)
            except (ClientError, BotoCoreError, FediError) as exc:
                raise self._fail(exc, "list", None) from None

        return await asyncio.to_thread(run)

    async def head(self, key: str) -> ObjectInfo | None:
        def run() -> ObjectInfo | None:
            try:
                got = self._client().head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
                    return None
                raise self._fail(exc, "head", key) from None
            except (BotoCoreError, FediError) as exc:
                raise self._fail(exc, "head", key) from None
            return ObjectInfo(key, int(got["ContentLength"]), _etag(got.get("ETag")))

        return await asyncio.to_thread(run)

    async def get(self, key: str, out: BinaryIO) -> ObjectRead:
        def run() -> ObjectRead:
            sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
            size = 0
            try:
                got = self._client().get_object(Bucket=self.bucket, Key=key)
                body = got["Body"]
                try:
                    while chunk := body.read(CHUNK):
                        sha.update(chunk)
                        md5.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                finally:
                    body.close()
            except (ClientError, BotoCoreError, FediError, OSError) as exc:
                raise self._fail(exc, "get", key) from None
            expected = int(got.get("ContentLength", size))
            if size != expected:
                raise FediError(
                    f"{self.where}: get {self._transport.scrub(key)!r}: {size} bytes came "
                    f"instead of {expected}; run again"
                )
            return ObjectRead(size, sha.hexdigest(), md5.hexdigest(), _etag(got.get("ETag")))

        return await asyncio.to_thread(run)

    async def put(self, key: str, data: BinaryIO, size: int, md5: str) -> str:
        if size > MAX_SINGLE_PUT:
            raise FediError(
                f"{self.where}: {self._transport.scrub(key)!r} has {size} bytes, more than one "
                "upload may hold (5 GiB); copy it with the storage's own tools"
            )

        def run() -> str:
            content_md5 = base64.b64encode(bytes.fromhex(md5)).decode("ascii")
            try:
                answer = self._client().put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=_Limited(data, size),
                    ContentLength=size,
                    ContentMD5=content_md5,
                )
            except (ClientError, BotoCoreError, FediError, OSError) as exc:
                raise self._fail(exc, "put", key) from None
            etag = _etag(answer.get("ETag"))
            if etag and "-" not in etag and etag != md5:
                raise FediError(
                    f"{self.where}: put {self._transport.scrub(key)!r}: the storage kept other "
                    f"content than was sent (ETag {etag}, sent MD5 {md5}); run again"
                )
            return etag

        return await asyncio.to_thread(run)

    async def delete(self, key: str) -> None:
        def run() -> None:
            try:
                self._client().delete_object(Bucket=self.bucket, Key=key)
            except (ClientError, BotoCoreError, FediError) as exc:
                raise self._fail(exc, "delete", key) from None

        await asyncio.to_thread(run)


class _Limited:
    """A file-like view of exactly `size` bytes of `data` from where it is now (seekable, so
    botocore can rewind it for a retry)."""

    def __init__(self, data: BinaryIO, size: int) -> None:
        self._data = data
        self._start = data.tell()
        self._size = size
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        left = self._size - self._pos
        if n < 0 or n > left:
            n = left
        chunk = self._data.read(n) if n else b""
        self._pos += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        self._data.seek(self._start + self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def __len__(self) -> int:
        return self._size


if TYPE_CHECKING:

    def _implements(bucket: S3Bucket) -> BucketObjects:
        return bucket
