"""Garage's admin API v2 as the core's :class:`~fedi_tui.core.deploy.ports.StorageAdmin`.

Every operation reads first and changes only what differs, so a second call
changes nothing (no POST is sent when the cluster already is as asked):

- buckets are found by their global alias (``GetBucketInfo?globalAlias=``) and
  created with it (``CreateBucket``); a bucket another run created meanwhile is
  found again instead of failing;
- keys are found by their exact name (``ListKeys``; ``GetKeyInfo?search=`` also
  matches prefixes of ids) and created with it (``CreateKey``); the secret comes
  with the creation, and for an existing key it is read back with
  ``GetKeyInfo?showSecretKey=true``;
- ``allow`` makes the key's permissions on the bucket *exactly* the ones asked:
  missing flags are granted with ``AllowBucketKey``, extra ones taken away with
  ``DenyBucketKey`` (each of them changes only the flags sent as true), and
  the answer is checked;
- quota and website access go through ``UpdateBucket?id=`` (the spec says the
  id is a path parameter; Garage reads it from the query string);
- revoke, delete key and delete bucket do nothing when the thing is already
  gone; a bucket that still holds objects is never deleted.

Blocking HTTP runs in :func:`asyncio.to_thread`. Every failure is a
:class:`~fedi_tui.adapters.garage.http.GarageError` naming the storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from fedi_tui.adapters.garage.answers import (
    BucketInfo,
    ClusterHealth,
    KeyInfo,
    KeyListItem,
    Perms,
    read,
    read_list,
)
from fedi_tui.adapters.garage.http import GarageError, GarageHttp
from fedi_tui.core.deploy.ports import (
    BucketUsage,
    StorageAdmin,
    StorageBucket,
    StorageHealth,
    StorageKey,
)
from fedi_tui.core.state.spec import GarageStorageSpec

__all__ = ["GIB", "INDEX_DOCUMENT", "GarageAdmin"]

GIB = 1024**3
INDEX_DOCUMENT = "index.html"
"""What Garage's website endpoint serves for a directory; required when enabling it."""

T = TypeVar("T")


class GarageAdmin:
    """One storage of fedi.toml, administered through its admin API. Use as ``async with``.

    ``GarageAdmin(name, spec, base_dir)``: *base_dir* is the state file's
    directory (relative ``ca_file`` and secret files are read from there).
    """

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
        self._http = GarageHttp(
            name, spec, base_dir, connect_timeout=connect_timeout, read_timeout=read_timeout
        )

    def __repr__(self) -> str:
        return f"GarageAdmin({self.name!r}, {self.spec.admin_endpoint!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._http.close()

    # --- plumbing -------------------------------------------------------------

    @property
    def _prefix(self) -> str:
        return self._http.prefix

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    def _get(self, op: str, query: dict[str, str], what: str, *, missing_ok: bool = False) -> Any:
        return self._http.call("GET", op, query=query, what=what, missing_ok=missing_ok)

    def _post(
        self,
        op: str,
        what: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        empty_ok: bool = False,
    ) -> Any:
        return self._http.call("POST", op, query=query, body=body, what=what, empty_ok=empty_ok)

    def _bucket(self, data: Any, op: str) -> BucketInfo:
        return read(BucketInfo, data, op=op, prefix=self._prefix)

    def _bucket_or_none(self, bucket_id: str, what: str) -> BucketInfo | None:
        data = self._get("GetBucketInfo", {"id": bucket_id}, what, missing_ok=True)
        return None if data is None else self._bucket(data, "GetBucketInfo")

    # --- cluster --------------------------------------------------------------

    async def health(self) -> StorageHealth:
        def run() -> StorageHealth:
            data = self._get("GetClusterHealth", {}, "read the cluster health")
            h = read(ClusterHealth, data, op="GetClusterHealth", prefix=self._prefix)
            return StorageHealth(
                healthy=h.status == "healthy",
                status=self._http.scrub(h.status),
                nodes_up=h.storage_nodes_ok,
                nodes=h.storage_nodes,
                partitions_ok=h.partitions_all_ok,
                partitions=h.partitions,
                partitions_quorum=h.partitions_quorum,
            )

        return await self._run(run)

    # --- buckets --------------------------------------------------------------

    def _find(self, name: str) -> BucketInfo | None:
        data = self._get(
            "GetBucketInfo", {"globalAlias": name}, f"look up bucket {name}", missing_ok=True
        )
        return None if data is None else self._bucket(data, "GetBucketInfo")

    async def find_bucket(self, name: str) -> StorageBucket | None:
        found = await self._run(lambda: self._find(name))
        return None if found is None else StorageBucket(found.id, name, created=False)

    async def ensure_bucket(self, name: str) -> StorageBucket:
        def run() -> StorageBucket:
            found = self._find(name)
            if found is not None:
                return StorageBucket(found.id, name, created=False)
            try:
                data = self._post(
                    "CreateBucket", f"create bucket {name}", body={"globalAlias": name}
                )
            except GarageError as exc:
                if exc.reason != "conflict":
                    raise
                again = self._find(name)  # made by someone else since we looked
                if again is None:
                    raise
                return StorageBucket(again.id, name, created=False)
            made = self._bucket(data, "CreateBucket")
            return StorageBucket(made.id, name, created=True)

        return await self._run(run)

    async def set_quota(self, bucket_id: str, quota_gib: int) -> None:
        """Limit the bucket to *quota_gib* GiB (0: no size limit); its object limit is kept."""
        if quota_gib < 0:
            raise ValueError("quota_gib must be >= 0")
        want = quota_gib * GIB if quota_gib else None

        def run() -> None:
            what = f"set the quota of bucket {bucket_id} to {quota_gib} GiB"
            info = self._need_bucket(bucket_id, what)
            if info.quotas.max_size == want:
                return
            body = {"quotas": {"maxSize": want, "maxObjects": info.quotas.max_objects}}
            done = self._bucket(
                self._post("UpdateBucket", what, query={"id": bucket_id}, body=body),
                "UpdateBucket",
            )
            if done.quotas.max_size != want:
                raise self._not_applied(what, f"its quota is {done.quotas.max_size} bytes")

        await self._run(run)

    async def set_website(self, bucket_id: str, enabled: bool) -> None:
        def run() -> None:
            what = f"{'enable' if enabled else 'disable'} website access on bucket {bucket_id}"
            info = self._need_bucket(bucket_id, what)
            if info.website_access == enabled:
                return
            access: dict[str, Any] = {"enabled": enabled}
            if enabled:
                access["indexDocument"] = INDEX_DOCUMENT
            done = self._bucket(
                self._post(
                    "UpdateBucket", what, query={"id": bucket_id}, body={"websiteAccess": access}
                ),
                "UpdateBucket",
            )
            if done.website_access != enabled:
                raise self._not_applied(what, f"websiteAccess is {done.website_access}")

        await self._run(run)

    async def delete_bucket(self, bucket_id: str) -> None:
        """Delete an empty bucket; nothing if it is gone; refused while it holds objects."""

        def run() -> None:
            what = f"delete bucket {bucket_id}"
            info = self._bucket_or_none(bucket_id, what)
            if info is None:
                return
            names = ", ".join(info.global_aliases) or bucket_id
            if info.objects or info.unfinished_uploads:
                raise GarageError(
                    f"{self._prefix}: {what} ({names}): it still holds {info.objects} objects "
                    f"({info.bytes} bytes) and {info.unfinished_uploads} unfinished uploads; "
                    "Garage deletes only empty buckets, and fedi-tui does not delete data it "
                    "was not asked to: empty it first",
                    reason="refused",
                )
            try:
                self._post("DeleteBucket", what, query={"id": bucket_id}, empty_ok=True)
            except GarageError as exc:
                if exc.reason != "missing":
                    raise

        await self._run(run)

    async def usage(self, bucket_id: str) -> BucketUsage:
        def run() -> BucketUsage:
            info = self._need_bucket(bucket_id, f"read the usage of bucket {bucket_id}")
            return BucketUsage(
                objects=info.objects, bytes=info.bytes, quota_bytes=info.quotas.max_size
            )

        return await self._run(run)

    def _need_bucket(self, bucket_id: str, what: str) -> BucketInfo:
        info = self._bucket_or_none(bucket_id, what)
        if info is None:
            raise GarageError(
                f"{self._prefix}: {what}: there is no bucket with id {bucket_id}; it may have "
                "been deleted by hand — plan again to see what is missing",
                reason="missing",
                status=404,
            )
        return info

    # --- keys -----------------------------------------------------------------

    async def ensure_key(self, name: str) -> StorageKey:
        def run() -> StorageKey:
            what = f"look up access key {name}"
            keys = read_list(
                KeyListItem, self._get("ListKeys", {}, what), op="ListKeys", prefix=self._prefix
            )
            same = [k for k in keys if k.name == name]
            if len(same) > 1:
                ids = ", ".join(sorted(k.id for k in same))
                raise GarageError(
                    f"{self._prefix}: {what}: {len(same)} keys are named {name} ({ids}); "
                    "fedi-tui cannot tell which one the application uses: delete the extra "
                    "ones (`garage key delete <id>`) and run again",
                    reason="conflict",
                )
            if not same:
                data = self._post("CreateKey", f"create access key {name}", body={"name": name})
                made = read(KeyInfo, data, op="CreateKey", prefix=self._prefix)
                return StorageKey(made.access_key_id, name, made.secret_access_key, created=True)
            data = self._get(
                "GetKeyInfo", {"id": same[0].id, "showSecretKey": "true"}, f"read key {name}"
            )
            key = read(KeyInfo, data, op="GetKeyInfo", prefix=self._prefix)
            if key.expired:
                raise GarageError(
                    f"{self._prefix}: access key {name} ({key.access_key_id}) has expired; "
                    "the application cannot use it: make it never expire "
                    f"(`garage key set --never-expires {key.access_key_id}`) or delete it so "
                    "fedi-tui makes a new one",
                    reason="refused",
                )
            return StorageKey(key.access_key_id, name, key.secret_access_key, created=False)

        return await self._run(run)

    async def allow(
        self, bucket_id: str, access_key_id: str, *, read: bool, write: bool, owner: bool
    ) -> None:
        want = Perms(read=read, write=write, owner=owner)

        def run() -> None:
            what = f"set the permissions of key {access_key_id} on bucket {bucket_id}"
            info = self._need_bucket(bucket_id, what)
            have = info.perms_of(access_key_id)
            grant = {f: want.flags()[f] and not v for f, v in have.flags().items()}
            deny = {f: v and not want.flags()[f] for f, v in have.flags().items()}
            if any(grant.values()):
                info = self._change("AllowBucketKey", bucket_id, access_key_id, grant, what)
            if any(deny.values()):
                info = self._change("DenyBucketKey", bucket_id, access_key_id, deny, what)
            now = info.perms_of(access_key_id)
            if now != want:
                raise self._not_applied(what, f"the key has {self._words(now)}")

        await self._run(run)

    async def revoke(self, bucket_id: str, access_key_id: str) -> None:
        """Take every permission of the key on the bucket; nothing if either is gone."""

        def run() -> None:
            what = f"revoke key {access_key_id} on bucket {bucket_id}"
            info = self._bucket_or_none(bucket_id, what)
            if info is None:
                return
            have = info.perms_of(access_key_id)
            if not any(have.flags().values()):
                return
            try:
                self._change("DenyBucketKey", bucket_id, access_key_id, have.flags(), what)
            except GarageError as exc:
                if exc.reason != "missing":
                    raise

        await self._run(run)

    async def delete_key(self, access_key_id: str) -> None:
        """Delete the key; nothing if it is gone."""

        def run() -> None:
            what = f"delete access key {access_key_id}"
            if self._get("GetKeyInfo", {"id": access_key_id}, what, missing_ok=True) is None:
                return
            try:
                self._post("DeleteKey", what, query={"id": access_key_id}, empty_ok=True)
            except GarageError as exc:
                if exc.reason != "missing":
                    raise

        await self._run(run)

    def _change(
        self,
        op: Literal["AllowBucketKey", "DenyBucketKey"],
        bucket_id: str,
        access_key_id: str,
        flags: dict[str, bool],
        what: str,
    ) -> BucketInfo:
        body = {"bucketId": bucket_id, "accessKeyId": access_key_id, "permissions": flags}
        return self._bucket(self._post(op, what, body=body), op)

    @staticmethod
    def _words(perms: Perms) -> str:
        on = [f for f, v in perms.flags().items() if v]
        return " + ".join(on) if on else "no permissions"

    def _not_applied(self, what: str, state: str) -> GarageError:
        return GarageError(
            f"{self._prefix}: {what}: Garage answered as if it did, but {state}; check the "
            "cluster (`garage bucket info`) and run again",
            reason="answer",
        )


if TYPE_CHECKING:  # mypy proves the adapter is the port

    def _implements(admin: GarageAdmin) -> StorageAdmin:
        return admin
