"""The S3 data plane of a Garage storage, as the core's ``ObjectStore`` port.

Used with an application's own key, never with an admin credential:

- :meth:`S3Objects.verify_key` proves a new key works where it must and only
  there: it writes, reads back and deletes a probe object in the key's bucket,
  and, given another operator's bucket, checks that listing, reading and
  writing there are all refused (``AccessDenied``);
- :meth:`S3Objects.usage` counts the objects and bytes of a bucket by listing it;
- :meth:`S3Objects.empty_bucket` deletes every object in it (``--prune-data``:
  Garage deletes only empty buckets).

Blocking boto3 calls run in :func:`asyncio.to_thread`. Errors name the
storage, the bucket and the key id (never the secret) and say what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from fedi_tui.adapters.s3.bucket import S3Bucket
from fedi_tui.adapters.s3.transport import S3Transport
from fedi_tui.core.deploy.ports import BucketUsage, ObjectStore
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import GarageStorageSpec

__all__ = ["PROBE_PREFIX", "S3Objects"]

PROBE_PREFIX = ".fedi-tui-probe/"
"""Where the probe objects of :meth:`S3Objects.verify_key` go (each is deleted at once)."""
REFUSED = frozenset({"AccessDenied", "AllAccessDisabled"})

T = TypeVar("T")


class S3Objects:
    """One storage's S3 endpoint. ``S3Objects(name, spec, base_dir)``; use as ``async with``."""

    def __init__(
        self,
        name: str,
        spec: GarageStorageSpec,
        base_dir: Path | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.spec = spec
        self._transport = S3Transport(
            name, spec, base_dir, connect_timeout=connect_timeout, read_timeout=read_timeout
        )

    def __repr__(self) -> str:
        return f"S3Objects({self.name!r}, {self.spec.s3_endpoint!r})"

    async def __aenter__(self) -> S3Objects:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._transport.close()

    @property
    def _prefix(self) -> str:
        return self._transport.prefix

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    def _client(self, access_key_id: str, secret: SecretStr) -> Any:
        try:
            return self._transport.client(access_key_id, secret.get_secret_value())
        except FediError as exc:
            raise FediError(f"{self._prefix}: {exc}") from None

    # --- verify a key -----------------------------------------------------------

    async def verify_key(
        self,
        bucket: str,
        access_key_id: str,
        secret: SecretStr,
        *,
        refused_bucket: str | None = None,
    ) -> None:
        def run() -> None:
            s3 = self._client(access_key_id, secret)
            probe = PROBE_PREFIX + secrets.token_hex(8)
            body = b"fedi-tui checks that this key works; this object is deleted at once\n"
            ok = f"key {access_key_id} on its bucket {bucket}"
            self._do(s3.put_object, ok, "write", Bucket=bucket, Key=probe, Body=body)
            try:
                got = self._do(s3.get_object, ok, "read", Bucket=bucket, Key=probe)
                data = got["Body"].read()
                if data != body:
                    raise FediError(
                        f"{self._prefix}: {ok}: the probe object read back differs from what was "
                        f"written ({len(data)} bytes instead of {len(body)}); check the "
                        "storage's health (`fedi-tui storage status`)"
                    )
            except BaseException:
                with contextlib.suppress(FediError):  # the first failure is the one to report
                    self._cleanup(s3, access_key_id, bucket, probe)
                raise
            self._cleanup(s3, access_key_id, bucket, probe)
            if refused_bucket is not None:
                self._refused(s3, access_key_id, refused_bucket, probe, body)

        await self._run(run)

    def _cleanup(self, s3: Any, key_id: str, bucket: str, probe: str) -> None:
        """Delete the probe object; a failure here is reported unless another one came first."""
        try:
            s3.delete_object(Bucket=bucket, Key=probe)
        except ClientError as exc:
            if _code(exc) in REFUSED:
                raise FediError(
                    f"{self._prefix}: key {key_id} may write but not delete in its bucket "
                    f"{bucket} ({self._said(exc)}); allow it read and write (Garage's write "
                    f"permission covers deletes). The probe object {probe} is left there"
                ) from None
            raise self._explain(exc, f"key {key_id} on its bucket {bucket}", "delete") from None
        except BotoCoreError as exc:
            raise FediError(f"{self._prefix}: delete probe {probe}: {exc}") from None

    def _refused(self, s3: Any, key_id: str, bucket: str, probe: str, body: bytes) -> None:
        where = f"key {key_id} on bucket {bucket}, which it must not reach"
        attempts: list[tuple[str, Callable[[], Any]]] = [
            ("list", lambda: s3.list_objects_v2(Bucket=bucket, MaxKeys=1)),
            ("read", lambda: s3.get_object(Bucket=bucket, Key=probe)),
            ("write", lambda: s3.put_object(Bucket=bucket, Key=probe, Body=body)),
        ]
        for verb, attempt in attempts:
            try:
                attempt()
            except ClientError as exc:
                code = _code(exc)
                if code in REFUSED:
                    continue
                if code == "NoSuchBucket":
                    raise FediError(
                        f"{self._prefix}: {where}: cannot prove the key is refused there: the "
                        "bucket does not exist"
                    ) from None
                raise FediError(
                    f"{self._prefix}: {where}: may {verb} there — expected AccessDenied, got "
                    f"{self._said(exc)}; take the key's permissions on that bucket away "
                    "(`garage bucket deny`) before using it"
                ) from None
            except BotoCoreError as exc:
                raise FediError(f"{self._prefix}: {where}: {exc}") from None
            if verb == "write":
                self._cleanup(s3, key_id, bucket, probe)
            raise FediError(
                f"{self._prefix}: {where}: the key may {verb} there; take its permissions "
                f"on {bucket} away (`garage bucket deny --read --write --owner {bucket} --key "
                f"{key_id}`) before the application uses it"
            )

    # --- data -------------------------------------------------------------------

    def bucket(self, bucket: str, access_key_id: str, secret: SecretStr) -> S3Bucket:
        """One bucket's objects with this key (list, head, get, put; backup and migration)."""
        return S3Bucket(self._transport, bucket, access_key_id, secret.get_secret_value())

    # --- usage ------------------------------------------------------------------

    async def usage(self, bucket: str, access_key_id: str, secret: SecretStr) -> BucketUsage:
        def run() -> BucketUsage:
            s3 = self._client(access_key_id, secret)
            objects = size = 0
            token: str | None = None
            what = f"key {access_key_id} on bucket {bucket}"
            while True:
                kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 1000}
                if token:
                    kwargs["ContinuationToken"] = token
                page = self._do(s3.list_objects_v2, what, "list", **kwargs)
                for item in page.get("Contents", ()):
                    objects += 1
                    size += int(item.get("Size", 0))
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    return BucketUsage(objects=objects, bytes=size, quota_bytes=None)

        return await self._run(run)

    # --- emptying ---------------------------------------------------------------

    async def empty_bucket(
        self, bucket: str, access_key_id: str, secret: SecretStr, *, batch: int = 1000
    ) -> int:
        """Delete every object of *bucket* (*batch* per DeleteObjects) and abort its
        unfinished multipart uploads; returns how many objects were deleted."""

        def run() -> int:
            s3 = self._client(access_key_id, secret)
            what = f"key {access_key_id} emptying bucket {bucket}"
            deleted = 0
            while True:
                page = self._do(s3.list_objects_v2, what, "list", Bucket=bucket, MaxKeys=batch)
                keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
                if not keys:
                    break
                done = self._do(
                    s3.delete_objects,
                    what,
                    "delete",
                    Bucket=bucket,
                    Delete={"Objects": keys, "Quiet": True},
                )
                errors = done.get("Errors") or []
                if errors:
                    first = errors[0]
                    code = self._transport.scrub(str(first.get("Code")))
                    advice = (
                        "the key may not delete there: allow it write on the bucket "
                        "(`garage bucket allow --write`)"
                        if code in REFUSED
                        else "run again"
                    )
                    raise FediError(
                        f"{self._prefix}: {what}: {len(errors)} of {len(keys)} objects were not "
                        f"deleted, e.g. {self._transport.scrub(str(first.get('Key')))!r}: {code} "
                        f"{self._transport.scrub(str(first.get('Message', '')))}; {advice}"
                    )
                deleted += len(keys)
            uploads = self._do(s3.list_multipart_uploads, what, "list uploads", Bucket=bucket)
            for upload in uploads.get("Uploads", ()):
                self._do(
                    s3.abort_multipart_upload,
                    what,
                    "abort an upload",
                    Bucket=bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
            return deleted

        return await self._run(run)

    # --- errors -----------------------------------------------------------------

    def _do(self, call: Callable[..., Any], where: str, verb: str, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except ClientError as exc:
            raise self._explain(exc, where, verb) from None
        except BotoCoreError as exc:
            raise FediError(f"{self._prefix}: {where}: {verb} failed: {exc}") from None

    def _said(self, exc: ClientError) -> str:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        code = self._transport.scrub(str(error.get("Code", "")))
        message = self._transport.scrub(str(error.get("Message", "")))[:200]
        return f"HTTP {status} {code}" + (f": {message}" if message else "")

    def _explain(self, exc: ClientError, where: str, verb: str) -> FediError:
        code = _code(exc)
        said = self._said(exc)
        if code == "InvalidAccessKeyId":
            advice = "the storage does not know this access key: was it deleted? plan again"
        elif code == "SignatureDoesNotMatch":
            advice = (
                "the secret key does not match the access key: the stored secret is wrong or "
                "the key was re-created; delete the key so fedi-tui makes a new one"
            )
        elif code in REFUSED:
            advice = (
                f"the key may not {verb} there: allow it on the bucket "
                "(`garage bucket allow --read --write`)"
            )
        elif code == "NoSuchBucket":
            advice = "the bucket does not exist: plan again to create it"
        elif code in ("RequestTimeTooSkewed",):
            advice = "this machine's clock and the storage's differ too much: fix the time"
        else:
            advice = "check the storage (`fedi-tui storage status`) and run again"
        return FediError(f"{self._prefix}: {where}: {verb} failed ({said}); {advice}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


if TYPE_CHECKING:  # mypy proves the adapter is the port

    def _implements(store: S3Objects) -> ObjectStore:
        return store
