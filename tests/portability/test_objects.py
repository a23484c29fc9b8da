"""Objects between two real S3 servers (moto processes behind Garage stand-ins), verified."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from fedi_tui.adapters.garage import GarageAdmin
from fedi_tui.adapters.s3 import S3Objects
from fedi_tui.core.deploy.events import Event, TransferProgress
from fedi_tui.core.deploy.ports import StorageKey
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.objects import (
    VerifiedRecord,
    copy_objects,
    download_objects,
    stored_path,
    upload_objects,
)
from fedi_tui.core.portability.ports import BucketObjects
from fedi_tui.core.portability.progress import Meter
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real

KEYS = ["a.txt", "dir/b.bin", "dir/sub/ünï cöde?.png", "big", "empty", "x" * 200]


def app_key(garage: GarageStandIn, bucket: str) -> StorageKey:
    async def go() -> StorageKey:
        async with GarageAdmin(garage.provider, garage.spec()) as a:
            b = await a.ensure_bucket(bucket)
            k = await a.ensure_key(bucket)
            await a.allow(b.id, k.access_key_id, read=True, write=True, owner=False)
            return k

    return asyncio.run(go())


def bucket_of(garage: GarageStandIn, name: str) -> tuple[BucketObjects, StorageKey]:
    key = app_key(garage, name)
    assert key.secret is not None
    store = S3Objects(garage.provider, garage.spec())
    return store.bucket(name, key.access_key_id, SecretStr(key.secret.get_secret_value())), key


def fill(
    garage: GarageStandIn, key: StorageKey, bucket: str, *, big: bool = True
) -> dict[str, bytes]:
    assert key.secret is not None
    s3 = garage.s3(key.access_key_id, key.secret.get_secret_value())
    bodies = {k: os.urandom(1000 + 37 * i) for i, k in enumerate(KEYS)}
    if big:
        bodies["big"] = os.urandom(9 * 1024 * 1024)  # spills from memory to disk
    bodies["empty"] = b""
    for k, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=k, Body=body)
    return bodies


def contents(garage: GarageStandIn, key: StorageKey, bucket: str) -> dict[str, bytes]:
    assert key.secret is not None
    s3 = garage.s3(key.access_key_id, key.secret.get_secret_value())
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


@pytest.mark.slow
def test_copy_between_providers_is_byte_identical_and_resumes(
    tmp_path: Path, garage: GarageStandIn, garage_b: GarageStandIn
) -> None:
    src, src_key = bucket_of(garage, "coop-mastodon")
    dst, dst_key = bucket_of(garage_b, "coop-mastodon")
    bodies = fill(garage, src_key, "coop-mastodon")
    events: list[Event] = []
    meter = Meter(events.append, deployment="m", step="objects", part="objects", what="b")

    with VerifiedRecord(tmp_path / "verified.jsonl") as record:
        report = asyncio.run(copy_objects(src, dst, record=record, meter=meter, concurrency=4))
    meter.finish()
    assert contents(garage_b, dst_key, "coop-mastodon") == bodies
    assert {c.key: c.sha256 for c in report.copied} == {
        k: hashlib.sha256(v).hexdigest() for k, v in bodies.items()
    }
    final = [e for e in events if isinstance(e, TransferProgress)][-1]
    assert (final.objects, final.bytes, final.total_objects) == (
        len(bodies),
        sum(map(len, bodies.values())),
        len(bodies),
    )
    assert contents(garage, src_key, "coop-mastodon") == bodies  # the source is only read

    # a re-run skips what was verified, copies what is new or changed, and what went missing
    assert src_key.secret is not None and dst_key.secret is not None
    s3a = garage.s3(src_key.access_key_id, src_key.secret.get_secret_value())
    s3a.put_object(Bucket="coop-mastodon", Key="new", Body=b"new one")
    s3a.put_object(Bucket="coop-mastodon", Key="a.txt", Body=b"changed")
    s3b = garage_b.s3(dst_key.access_key_id, dst_key.secret.get_secret_value())
    s3b.delete_object(Bucket="coop-mastodon", Key="empty")
    with VerifiedRecord(tmp_path / "verified.jsonl") as record:
        again = asyncio.run(copy_objects(src, dst, record=record))
    assert sorted(c.key for c in again.copied) == ["a.txt", "empty", "new"]
    assert again.skipped == len(bodies) - 2
    assert contents(garage_b, dst_key, "coop-mastodon") == contents(
        garage, src_key, "coop-mastodon"
    )


def test_a_torn_record_line_only_costs_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "verified.jsonl"
    path.write_text(
        '{"key": "k", "size": 1, "sha256": "s", "md5": "m", "source_etag": "e", '
        '"target_etag": "t"}\n{"key": "torn", "si'
    )
    assert list(VerifiedRecord(path).objects) == ["k"]


@pytest.mark.slow
def test_download_and_upload_by_content(
    tmp_path: Path, garage: GarageStandIn, garage_b: GarageStandIn
) -> None:
    src, src_key = bucket_of(garage, "coop-pixelfed")
    bodies = fill(garage, src_key, "coop-pixelfed")
    stored = asyncio.run(download_objects(src, tmp_path / "objects"))
    assert {s.key for s in stored} == set(bodies)
    for s in stored:
        assert stored_path(tmp_path / "objects", s.sha256).read_bytes() == bodies[s.key]
    assert not list((tmp_path / "objects").glob(".partial-*"))
    dst, dst_key = bucket_of(garage_b, "coop-pixelfed")
    asyncio.run(upload_objects(stored, tmp_path / "objects", dst))
    assert contents(garage_b, dst_key, "coop-pixelfed") == bodies


def test_errors_name_the_bucket_and_never_the_secret(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-peertube")
    store = S3Objects(garage.provider, garage.spec())
    wrong = store.bucket("coop-peertube", key.access_key_id, SecretStr("not-the-secret-0123456789"))
    with pytest.raises(FediError) as err:
        asyncio.run(wrong.list())
    assert "bucket coop-peertube" in str(err.value)
    assert "not-the-secret" not in str(err.value)


def test_listing_follows_every_page_and_head_reports_size_and_etag(garage: GarageStandIn) -> None:
    from fedi_tui.adapters.s3.bucket import S3Bucket
    from fedi_tui.adapters.s3.transport import S3Transport

    key = app_key(garage, "coop-mastodon")
    assert key.secret is not None
    bodies = fill(garage, key, "coop-mastodon", big=False)
    paged = S3Bucket(
        S3Transport(garage.provider, garage.spec()),
        "coop-mastodon",
        key.access_key_id,
        key.secret.get_secret_value(),
        page_size=2,
    )
    listed = asyncio.run(paged.list())
    assert [o.key for o in listed] == sorted(bodies)
    assert {o.key: o.size for o in listed} == {k: len(v) for k, v in bodies.items()}
    head = asyncio.run(paged.head("a.txt"))
    assert head is not None and head.etag == hashlib.md5(bodies["a.txt"]).hexdigest()
    assert asyncio.run(paged.head("not/there")) is None
