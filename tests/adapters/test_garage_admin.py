"""The Garage admin client against the spec-checking stand-in, over HTTPS verified by its test CA.

Every S3 check below is a real S3 call to the moto server behind the stand-in,
signed with the key Garage handed out; moto enforces the key's permissions.
The ``garage`` fixture fails a test whose calls break the admin API v2 spec.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fedi_tui.adapters.garage import GarageAdmin, GarageError
from fedi_tui.core.deploy.ports import StorageAdmin, StorageKey
from fedi_tui.sandbox.garage_cluster import Key
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def admin(garage: GarageStandIn, **overrides: Any) -> GarageAdmin:
    return GarageAdmin("garage-a", garage.spec(**overrides))


def refused(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "AccessDenied"
    return False


async def provision(a: StorageAdmin, bucket: str) -> tuple[str, StorageKey]:
    """What apply does for one app: bucket, quota, website, key, permissions."""
    b = await a.ensure_bucket(bucket)
    await a.set_quota(b.id, 50)
    await a.set_website(b.id, True)
    k = await a.ensure_key(bucket)
    await a.allow(b.id, k.access_key_id, read=True, write=True, owner=False)
    return b.id, k


def test_it_is_a_storage_admin(garage: GarageStandIn) -> None:
    a: StorageAdmin = admin(garage)  # mypy checks the protocol; here the name
    assert a.name == "garage-a"


def test_health_of_a_healthy_cluster(garage: GarageStandIn) -> None:
    health = run(admin(garage).health())
    assert health.healthy and health.status == "healthy"
    assert (health.nodes_up, health.nodes) == (3, 3)
    assert (health.partitions_ok, health.partitions_quorum, health.partitions) == (256, 256, 256)


@pytest.mark.parametrize("preset", ["degraded", "unavailable"])
def test_health_of_an_unhealthy_cluster(garage: GarageStandIn, preset: Any) -> None:
    garage.set_health(preset)
    health = run(admin(garage).health())
    assert not health.healthy and health.status == preset
    assert health.nodes_up < health.nodes and health.partitions_ok < health.partitions


def test_an_unavailable_cluster_fails_operations_with_a_clear_error(garage: GarageStandIn) -> None:
    garage.set_health("unavailable")
    with pytest.raises(GarageError) as err:
        run(admin(garage).ensure_bucket("coop-mastodon"))
    text = str(err.value)
    assert text.startswith(f"storage garage-a ({garage.admin_endpoint}): look up bucket")
    assert "HTTP 500" in text and "quorum" in text and "`garage status`" in text
    assert err.value.reason == "server"


def test_provisioning_twice_changes_nothing_the_second_time(garage: GarageStandIn) -> None:
    async def twice() -> tuple[tuple[str, StorageKey], tuple[str, StorageKey], int]:
        async with admin(garage) as a:
            first = await provision(a, "coop-mastodon")
            mutations = len(garage.mutations())
            second = await provision(a, "coop-mastodon")
            return first, second, mutations

    first, second, mutations = run(twice())
    assert (
        mutations == 5
    )  # CreateBucket, UpdateBucket (quota), UpdateBucket (web), CreateKey, Allow
    assert len(garage.mutations()) == mutations  # the second run only read
    assert first[0] == second[0]
    assert first[1].created and not second[1].created
    assert first[1].access_key_id == second[1].access_key_id
    bucket = garage.bucket("coop-mastodon")
    assert bucket is not None and bucket.website and bucket.index_document == "index.html"
    assert bucket.max_size == 50 * 1024**3 and bucket.max_objects is None


def test_a_key_secret_comes_with_creation_and_is_read_back_later(garage: GarageStandIn) -> None:
    async def go() -> tuple[StorageKey, StorageKey]:
        async with admin(garage) as a:
            return await a.ensure_key("coop-mastodon"), await a.ensure_key("coop-mastodon")

    made, found = run(go())
    assert made.secret is not None and found.secret is not None
    assert made.secret.get_secret_value() == found.secret.get_secret_value()
    assert made.secret.get_secret_value() == garage.key("coop-mastodon").secret  # type: ignore[union-attr]
    shown = [c for c in garage.calls if c.op == "GetKeyInfo"]
    assert shown and shown[0].query == {"id": made.access_key_id, "showSecretKey": "true"}


def test_two_keys_with_one_name_are_refused(garage: GarageStandIn) -> None:
    run(admin(garage).ensure_key("coop-mastodon"))
    garage.app.cluster.keys["GKother"] = Key(  # made by hand with `garage key create coop-mastodon`
        id="GKother",
        name="coop-mastodon",
        secret="x",
        created="2026-01-01T00:00:00Z",
        iam_user="nobody",
    )
    with pytest.raises(GarageError, match="2 keys are named coop-mastodon") as err:
        run(admin(garage).ensure_key("coop-mastodon"))
    assert "`garage key delete <id>`" in str(err.value)


def test_the_key_reads_and_writes_its_bucket_and_is_refused_on_another(
    garage: GarageStandIn,
) -> None:
    async def go() -> tuple[StorageKey, StorageKey]:
        async with admin(garage) as a:
            _, mine = await provision(a, "coop-mastodon")
            _, theirs = await provision(a, "other-pixelfed")
            return mine, theirs

    mine, theirs = run(go())
    assert mine.secret is not None
    s3 = garage.s3(mine.access_key_id, mine.secret.get_secret_value())
    s3.put_object(Bucket="coop-mastodon", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="coop-mastodon", Key="a.txt")["Body"].read() == b"hello"
    s3.delete_object(Bucket="coop-mastodon", Key="a.txt")
    assert refused(lambda: s3.put_object(Bucket="other-pixelfed", Key="x", Body=b"x"))
    assert refused(lambda: s3.list_objects_v2(Bucket="other-pixelfed"))
    assert refused(lambda: s3.delete_bucket(Bucket="coop-mastodon"))  # no owner permission
    assert theirs.secret is not None
    other = garage.s3(theirs.access_key_id, theirs.secret.get_secret_value())
    other.put_object(Bucket="other-pixelfed", Key="b.txt", Body=b"theirs")
    assert refused(lambda: other.get_object(Bucket="coop-mastodon", Key="a.txt"))


def test_allow_grants_exactly_what_is_asked_and_takes_the_rest(garage: GarageStandIn) -> None:
    async def go() -> tuple[str, StorageKey]:
        async with admin(garage) as a:
            b = await a.ensure_bucket("coop-mastodon")
            k = await a.ensure_key("coop-mastodon")
            await a.allow(b.id, k.access_key_id, read=True, write=True, owner=True)
            await a.allow(b.id, k.access_key_id, read=True, write=False, owner=False)
            return b.id, k

    bucket_id, key = run(go())
    assert garage.key("coop-mastodon").on(bucket_id) == {  # type: ignore[union-attr]
        "read": True,
        "write": False,
        "owner": False,
    }
    denied = [c for c in garage.calls if c.op == "DenyBucketKey"]
    assert [c.body["permissions"] for c in denied] == [
        {"read": False, "write": True, "owner": True}
    ]
    assert key.secret is not None
    s3 = garage.s3(key.access_key_id, key.secret.get_secret_value())
    garage.s3().put_object(Bucket="coop-mastodon", Key="seen", Body=b"x")
    assert s3.get_object(Bucket="coop-mastodon", Key="seen")["Body"].read() == b"x"
    assert refused(lambda: s3.put_object(Bucket="coop-mastodon", Key="new", Body=b"x"))

    before = len(garage.mutations())
    run(admin(garage).allow(bucket_id, key.access_key_id, read=True, write=False, owner=False))
    assert len(garage.mutations()) == before


def test_quota_and_website_follow_what_is_asked(garage: GarageStandIn) -> None:
    async def go() -> str:
        async with admin(garage) as a:
            b = await a.ensure_bucket("coop-mastodon")
            await a.set_quota(b.id, 50)
            await a.set_website(b.id, True)
            await a.set_quota(b.id, 0)
            await a.set_website(b.id, False)
            return b.id

    bucket_id = run(go())
    bucket = garage.app.cluster.buckets[bucket_id]
    assert (bucket.max_size, bucket.website, bucket.index_document) == (None, False, None)
    updates = [c.body for c in garage.calls if c.op == "UpdateBucket"]
    assert updates == [
        {"quotas": {"maxSize": 50 * 1024**3, "maxObjects": None}},
        {"websiteAccess": {"enabled": True, "indexDocument": "index.html"}},
        {"quotas": {"maxSize": None, "maxObjects": None}},
        {"websiteAccess": {"enabled": False}},
    ]
    assert all(c.query == {"id": bucket_id} for c in garage.calls if c.op == "UpdateBucket")


def test_a_quota_keeps_an_object_limit_set_by_hand(garage: GarageStandIn) -> None:
    async def go() -> str:
        async with admin(garage) as a:
            b = await a.ensure_bucket("coop-mastodon")
            garage.app.cluster.buckets[b.id].max_objects = 1000
            await a.set_quota(b.id, 2)
            return b.id

    assert garage.app.cluster.buckets[run(go())].max_objects == 1000


def test_revoke_takes_every_permission_and_a_second_revoke_changes_nothing(
    garage: GarageStandIn,
) -> None:
    async def go() -> tuple[str, StorageKey]:
        async with admin(garage) as a:
            bucket_id, key = await provision(a, "coop-mastodon")
            await a.revoke(bucket_id, key.access_key_id)
            return bucket_id, key

    bucket_id, key = run(go())
    assert key.secret is not None
    s3 = garage.s3(key.access_key_id, key.secret.get_secret_value())
    assert refused(lambda: s3.list_objects_v2(Bucket="coop-mastodon"))
    assert refused(lambda: s3.put_object(Bucket="coop-mastodon", Key="x", Body=b"x"))
    before = len(garage.mutations())
    run(admin(garage).revoke(bucket_id, key.access_key_id))
    assert len(garage.mutations()) == before
    assert garage.key("coop-mastodon") is not None  # revoked, not deleted
    assert garage.bucket("coop-mastodon") is not None


def test_delete_only_what_is_asked(garage: GarageStandIn) -> None:
    async def go() -> tuple[dict[str, str], dict[str, StorageKey]]:
        async with admin(garage) as a:
            ids, keys = {}, {}
            for name in ("coop-mastodon", "coop-pixelfed"):
                ids[name], keys[name] = await provision(a, name)
            await a.revoke(ids["coop-mastodon"], keys["coop-mastodon"].access_key_id)
            await a.delete_key(keys["coop-mastodon"].access_key_id)
            await a.delete_bucket(ids["coop-mastodon"])
            return ids, keys

    ids, keys = run(go())
    assert garage.bucket("coop-mastodon") is None and garage.key("coop-mastodon") is None
    assert garage.bucket("coop-pixelfed") is not None and garage.key("coop-pixelfed") is not None
    names = [b["Name"] for b in garage.s3().list_buckets()["Buckets"]]
    assert names == ["coop-pixelfed"]
    kept = keys["coop-pixelfed"]
    assert kept.secret is not None
    s3 = garage.s3(kept.access_key_id, kept.secret.get_secret_value())
    s3.put_object(Bucket="coop-pixelfed", Key="still", Body=b"works")

    before = len(garage.mutations())  # deleting what is gone is no error, and changes nothing
    run(admin(garage).delete_key(keys["coop-mastodon"].access_key_id))
    run(admin(garage).delete_bucket(ids["coop-mastodon"]))
    run(admin(garage).revoke(ids["coop-mastodon"], keys["coop-mastodon"].access_key_id))
    assert len(garage.mutations()) == before


def test_a_bucket_with_objects_is_never_deleted(garage: GarageStandIn) -> None:
    bucket = run(admin(garage).ensure_bucket("coop-mastodon"))
    garage.s3().put_object(Bucket="coop-mastodon", Key="media/1.png", Body=b"12345")
    with pytest.raises(GarageError) as err:
        run(admin(garage).delete_bucket(bucket.id))
    assert "still holds 1 objects (5 bytes)" in str(err.value)
    assert "empty it first" in str(err.value)
    assert garage.bucket("coop-mastodon") is not None
    assert not [c for c in garage.calls if c.op == "DeleteBucket"]


def test_usage_reports_objects_bytes_and_quota(garage: GarageStandIn) -> None:
    async def go() -> Any:
        async with admin(garage) as a:
            b = await a.ensure_bucket("coop-mastodon")
            await a.set_quota(b.id, 3)
            garage.s3().put_object(Bucket="coop-mastodon", Key="a", Body=b"x" * 100)
            garage.s3().put_object(Bucket="coop-mastodon", Key="b", Body=b"y" * 23)
            return await a.usage(b.id)

    usage = run(go())
    assert (usage.objects, usage.bytes, usage.quota_bytes) == (2, 123, 3 * 1024**3)


def test_find_bucket_of_an_unknown_name_is_none(garage: GarageStandIn) -> None:
    assert run(admin(garage).find_bucket("nobody-mastodon")) is None
    made = run(admin(garage).ensure_bucket("coop-mastodon"))
    found = run(admin(garage).find_bucket("coop-mastodon"))
    assert found is not None and found.id == made.id and not found.created


def test_a_bucket_made_meanwhile_by_someone_else_is_found_not_an_error(
    garage: GarageStandIn,
) -> None:
    other = run(GarageAdmin("other-run", garage.spec()).ensure_bucket("coop-mastodon"))
    garage.fail(  # our first look-up comes before the other run's bucket
        "GetBucketInfo",
        status=404,
        body=b'{"code": "NoSuchBucket", "message": "Bucket not found: coop-mastodon", '
        b'"region": "garage", "path": "/v2/GetBucketInfo"}',
    )
    bucket = run(admin(garage).ensure_bucket("coop-mastodon"))
    assert not bucket.created and bucket.id == other.id
    assert [(c.op, c.status) for c in garage.calls[-3:]] == [
        ("GetBucketInfo", 404),
        ("CreateBucket", 409),
        ("GetBucketInfo", 200),
    ]
