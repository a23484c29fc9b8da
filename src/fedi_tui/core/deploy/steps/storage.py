"""Bucket and key steps on the operator's object storage (through the StorageAdmin port).

A key's secret is returned only when the key is made: it is stored in the
state directory at once, before anything else can fail, and the key is then
proved to work (and to be refused on another operator's bucket) over S3.
"""

from __future__ import annotations

from typing import ClassVar

from fedi_tui.core.deploy.configuration import Bucket
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.recorded import BucketRecord, KeyRecord, RecordedState
from fedi_tui.core.deploy.secretstore import secret_fragments
from fedi_tui.core.deploy.steps.base import (
    Observed,
    StepContext,
    StepFailed,
    Target,
    storage_lane,
)


def bucket_of(desired: Target, name: str) -> Bucket:
    return next(b for b in desired.config.buckets if b.name == name)


def key_bucket(desired: Target, key: str) -> Bucket:
    return next(b for b in desired.config.buckets if b.key_name == key)


def _lane(storage: str, bucket: str) -> str:
    return storage_lane(f"{storage}/{bucket}")


def _bucket_id(ctx: StepContext, name: str) -> str:
    rec = ctx.recorded.buckets.get(name)
    if rec is None or rec.bucket_id is None:
        raise StepFailed(f"bucket {name} is not recorded with its id; run apply again")
    return rec.bucket_id


async def _empty(ctx: StepContext, storage: str, bucket: str, bucket_id: str) -> int:
    """Delete a bucket's objects (Garage deletes only empty buckets) with a key made for it.

    The app's own key may be gone already (revoked when the app was removed).
    """
    admin = ctx.ports.storage(storage)
    key = await admin.ensure_key(f"fedi-tui-prune-{bucket}")
    if key.secret is None:
        raise StepFailed(
            f"bucket {bucket}: the key fedi-tui-prune-{bucket} on {storage} exists but its secret "
            "cannot be read back; delete that key on the storage and run apply again"
        )
    for fragment in secret_fragments(key.secret.get_secret_value()):
        ctx.remember_secret(fragment)
    ctx.phase(f"emptying bucket {bucket}", "removing")
    try:
        await admin.allow(bucket_id, key.access_key_id, read=True, write=True, owner=False)
        return await ctx.ports.objects(storage).empty_bucket(bucket, key.access_key_id, key.secret)
    finally:
        await admin.revoke(bucket_id, key.access_key_id)
        await admin.delete_key(key.access_key_id)


class CreateBucket:
    kinds: ClassVar[tuple[StepKind, ...]] = ("create-bucket",)
    state: ClassVar[MachineState] = "provisioning"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        b = bucket_of(desired, step.target)
        return _lane(b.storage, b.name)

    async def execute(self, ctx: StepContext) -> Observed:
        b = bucket_of(ctx.desired, ctx.step.target)
        admin = ctx.ports.storage(b.storage)
        ctx.phase(f"bucket {b.name} on {b.storage}", "provisioning")
        bucket = await admin.ensure_bucket(b.name)
        await admin.set_quota(bucket.id, b.quota_gib)
        await admin.set_website(bucket.id, b.public)
        public = "public through the web endpoint" if b.public else "private"
        ctx.log(
            f"bucket {b.name} {'created' if bucket.created else 'exists'} "
            f"(id {bucket.id[:12]}…, quota {b.quota_gib} GiB, {public})"
        )
        return {"bucket_id": bucket.id, "created": bucket.created}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        b = bucket_of(desired, step.target)
        old = recorded.buckets.get(b.name)
        buckets = dict(recorded.buckets)
        buckets[b.name] = BucketRecord(
            storage=b.storage,
            operator=b.operator,
            bucket_id=observed.get("bucket_id", old.bucket_id if old else None),
            quota_gib=b.quota_gib,
            public=b.public,
            created=bool(observed.get("created", old.created if old else False)),
        )
        return recorded.model_copy(update={"buckets": buckets})


class SetQuota:
    kinds: ClassVar[tuple[StepKind, ...]] = ("set-quota",)
    state: ClassVar[MachineState] = "provisioning"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        b = bucket_of(desired, step.target)
        return _lane(b.storage, b.name)

    async def execute(self, ctx: StepContext) -> Observed:
        b = bucket_of(ctx.desired, ctx.step.target)
        await ctx.ports.storage(b.storage).set_quota(_bucket_id(ctx, b.name), b.quota_gib)
        ctx.log(f"bucket {b.name}: quota {b.quota_gib} GiB")
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        b = bucket_of(desired, step.target)
        buckets = dict(recorded.buckets)
        buckets[b.name] = buckets[b.name].model_copy(update={"quota_gib": b.quota_gib})
        return recorded.model_copy(update={"buckets": buckets})


class CreateKey:
    kinds: ClassVar[tuple[StepKind, ...]] = ("create-key",)
    state: ClassVar[MachineState] = "provisioning"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        b = key_bucket(desired, step.target)
        return _lane(b.storage, b.name)

    async def execute(self, ctx: StepContext) -> Observed:
        b = key_bucket(ctx.desired, ctx.step.target)
        admin = ctx.ports.storage(b.storage)
        ctx.phase(f"access key {b.key_name} for bucket {b.name}", "provisioning")
        key = await admin.ensure_key(b.key_name)
        if key.secret is not None:
            ctx.secrets.put_key_secret(b.key_name, key.secret)  # before anything can fail
            for fragment in secret_fragments(key.secret.get_secret_value()):
                ctx.remember_secret(fragment)
        secret = ctx.secrets.key_secret(b.key_name)
        if secret is None:
            raise StepFailed(
                f"access key {b.key_name} exists on {b.storage} but its secret is not in the "
                "state directory and cannot be read back; delete the key on the storage and "
                "run apply again"
            )
        await admin.allow(
            _bucket_id(ctx, b.name), key.access_key_id, read=True, write=True, owner=False
        )
        others = [
            o.name
            for o in ctx.desired.config.buckets
            if o.storage == b.storage and o.operator != b.operator
        ]
        ctx.phase(f"proving key {b.key_name} works on {b.name}", "provisioning")
        await ctx.ports.objects(b.storage).verify_key(
            b.name, key.access_key_id, secret, refused_bucket=others[0] if others else None
        )
        ctx.log(
            f"key {b.key_name} {'created' if key.created else 'exists'} ({key.access_key_id}); "
            f"it reads and writes {b.name}" + (f" and is refused on {others[0]}" if others else "")
        )
        return {"access_key_id": key.access_key_id}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        b = key_bucket(desired, step.target)
        keys = dict(recorded.keys)
        keys[step.target] = KeyRecord(
            storage=b.storage,
            bucket=b.name,
            operator=b.operator,
            access_key_id=observed.get("access_key_id"),
        )
        return recorded.model_copy(update={"keys": keys})


class RevokeKey:
    kinds: ClassVar[tuple[StepKind, ...]] = ("revoke-key",)
    state: ClassVar[MachineState] = "removing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        k = recorded.keys[step.target]
        return _lane(k.storage, k.bucket)

    async def execute(self, ctx: StepContext) -> Observed:
        k = ctx.recorded.keys[ctx.step.target]
        admin = ctx.ports.storage(k.storage)
        bucket = ctx.recorded.buckets.get(k.bucket)
        if k.access_key_id is not None:
            if bucket is not None and bucket.bucket_id is not None:
                await admin.revoke(bucket.bucket_id, k.access_key_id)
            await admin.delete_key(k.access_key_id)
        ctx.secrets.remove_key(ctx.step.target)
        ctx.log(f"key {ctx.step.target} revoked and deleted on {k.storage}")
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        keys = dict(recorded.keys)
        keys.pop(step.target, None)
        return recorded.model_copy(update={"keys": keys})


class DeleteBucket:
    kinds: ClassVar[tuple[StepKind, ...]] = ("delete-bucket",)
    state: ClassVar[MachineState] = "removing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        b = recorded.buckets[step.target]
        return _lane(b.storage, step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        b = ctx.recorded.buckets[ctx.step.target]
        if not b.created:
            raise StepFailed(
                f"bucket {ctx.step.target} on {b.storage} was not created by fedi-tui, so it is "
                "not deleted; delete it on the storage yourself if it should go"
            )
        if b.bucket_id is not None:
            admin = ctx.ports.storage(b.storage)
            emptied = await _empty(ctx, b.storage, ctx.step.target, b.bucket_id)
            ctx.log(f"bucket {ctx.step.target}: {emptied} objects deleted (--prune-data)")
            await admin.delete_bucket(b.bucket_id)
        ctx.log(f"bucket {ctx.step.target} deleted on {b.storage}")
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        buckets = dict(recorded.buckets)
        buckets.pop(step.target, None)
        return recorded.model_copy(update={"buckets": buckets})
