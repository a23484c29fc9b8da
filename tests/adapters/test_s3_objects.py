"""The S3 client against moto over HTTPS, with the keys and permissions the Garage stand-in made.

moto enforces IAM here: a key reaches only the buckets Garage allowed it on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from fedi_tui.adapters.garage import GarageAdmin
from fedi_tui.adapters.s3 import S3Objects
from fedi_tui.adapters.s3.transport import S3Transport
from fedi_tui.core.deploy.ports import ObjectStore, StorageKey
from fedi_tui.core.errors import FediError
from fedi_tui.sandbox.tls import make_certs
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real


def objects(garage: GarageStandIn, **overrides: Any) -> S3Objects:
    return S3Objects("garage-a", garage.spec(**overrides))


def app_key(
    garage: GarageStandIn, bucket: str, *, read: bool = True, write: bool = True
) -> StorageKey:
    async def go() -> StorageKey:
        async with GarageAdmin("garage-a", garage.spec()) as a:
            b = await a.ensure_bucket(bucket)
            k = await a.ensure_key(bucket)
            await a.allow(b.id, k.access_key_id, read=read, write=write, owner=False)
            return k

    return asyncio.run(go())


def secret(key: StorageKey) -> SecretStr:
    assert key.secret is not None
    return key.secret


def verify(store: ObjectStore, key: StorageKey, bucket: str, refused: str | None = None) -> None:
    asyncio.run(store.verify_key(bucket, key.access_key_id, secret(key), refused_bucket=refused))


def test_a_good_key_passes_and_leaves_no_probe_behind(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    app_key(garage, "other-pixelfed")
    verify(objects(garage), key, "coop-mastodon", refused="other-pixelfed")
    for bucket in ("coop-mastodon", "other-pixelfed"):
        assert garage.s3().list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_a_key_that_reaches_another_operators_bucket_fails_the_check(
    garage: GarageStandIn,
) -> None:
    key = app_key(garage, "coop-mastodon")
    theirs = app_key(garage, "other-pixelfed")
    # a mistake: the coop key is also allowed on the other operator's bucket
    bucket = garage.bucket("other-pixelfed")
    assert bucket is not None
    asyncio.run(
        GarageAdmin("garage-a", garage.spec()).allow(
            bucket.id, key.access_key_id, read=True, write=False, owner=False
        )
    )
    with pytest.raises(FediError) as err:
        verify(objects(garage), key, "coop-mastodon", refused="other-pixelfed")
    text = str(err.value)
    assert f"key {key.access_key_id} on bucket other-pixelfed, which it must not reach" in text
    assert "the key may list there" in text and "garage bucket deny" in text
    assert theirs.access_key_id not in text


def test_a_key_allowed_to_write_elsewhere_leaves_no_probe_there(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    app_key(garage, "other-pixelfed")
    bucket = garage.bucket("other-pixelfed")
    assert bucket is not None
    garage.key("coop-mastodon").perms[bucket.id] = {  # type: ignore[union-attr]
        "read": False,
        "write": True,
        "owner": False,
    }
    garage.app.cluster.sync_policy(garage.key("coop-mastodon"), bucket)  # type: ignore[arg-type]
    with pytest.raises(FediError, match="the key may write there"):
        verify(objects(garage), key, "coop-mastodon", refused="other-pixelfed")
    assert garage.s3().list_objects_v2(Bucket="other-pixelfed")["KeyCount"] == 0


def test_a_key_without_permission_on_its_own_bucket(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon", read=True, write=False)
    with pytest.raises(FediError) as err:
        verify(objects(garage), key, "coop-mastodon")
    text = str(err.value)
    assert f"storage garage-a ({garage.s3_endpoint}): key {key.access_key_id} on its bucket" in text
    assert "write failed (HTTP 403 AccessDenied" in text and "garage bucket allow" in text


def test_a_wrong_secret_is_refused_and_never_shown(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    wrong = SecretStr("0" * 40)
    with pytest.raises(FediError) as err:
        asyncio.run(objects(garage).verify_key("coop-mastodon", key.access_key_id, wrong))
    text = str(err.value)
    assert "SignatureDoesNotMatch" in text and "the secret key does not match" in text
    assert "0" * 40 not in text and secret(key).get_secret_value() not in text


def test_an_unknown_key(garage: GarageStandIn) -> None:
    app_key(garage, "coop-mastodon")
    with pytest.raises(FediError, match=r"InvalidAccessKeyId.*does not know this access key"):
        asyncio.run(
            objects(garage).verify_key("coop-mastodon", "AKIANOSUCHKEY0000000", SecretStr("x"))
        )


def test_a_refused_bucket_that_does_not_exist_proves_nothing(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    user = garage.key("coop-mastodon").iam_user  # type: ignore[union-attr]
    garage.moto.client("iam").put_user_policy(  # far too much: s3:* everywhere
        UserName=user,
        PolicyName="everything",
        PolicyDocument='{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
    )
    with pytest.raises(FediError) as err:
        verify(objects(garage), key, "coop-mastodon", refused="nobody-mastodon")
    assert "cannot prove the key is refused there: the bucket does not exist" in str(err.value)


def test_usage_counts_objects_and_bytes(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    for i in range(3):
        garage.s3().put_object(Bucket="coop-mastodon", Key=f"media/{i}", Body=b"x" * (10 + i))
    usage = asyncio.run(objects(garage).usage("coop-mastodon", key.access_key_id, secret(key)))
    assert (usage.objects, usage.bytes, usage.quota_bytes) == (3, 33, None)


def test_the_pinned_fingerprint_works_for_s3_too(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    verify(objects(garage, trust="fingerprint"), key, "coop-mastodon")


def test_s3_refuses_a_certificate_from_another_ca(garage: GarageStandIn, tmp_path: Path) -> None:
    key = app_key(garage, "coop-mastodon")
    other = make_certs(tmp_path, name="other")
    with pytest.raises(FediError) as err:
        verify(objects(garage, ca_file=str(other.ca_file)), key, "coop-mastodon")
    text = str(err.value)
    assert text.startswith(f"storage garage-a ({garage.s3_endpoint}): TLS: the certificate of")
    assert f"could not be verified against the CA in {other.ca_file}" in text
    assert secret(key).get_secret_value() not in text


def test_s3_refuses_a_wrong_fingerprint(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon")
    wrong = ":".join(["CD"] * 32)
    with pytest.raises(
        FediError, match=f"has fingerprint {garage.fingerprint}, but fedi.toml pins"
    ):
        verify(objects(garage, trust="fingerprint", fingerprint=wrong), key, "coop-mastodon")


def test_empty_bucket_deletes_every_object_and_upload_then_the_bucket_can_go(
    garage: GarageStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = app_key(garage, "coop-mastodon")
    admin_s3 = garage.s3()
    for i in range(5):
        admin_s3.put_object(Bucket="coop-mastodon", Key=f"media/{i}", Body=b"x")
    admin_s3.create_multipart_upload(Bucket="coop-mastodon", Key="half-done")
    sent: list[tuple[str, dict[str, str]]] = []
    original = S3Transport._send

    def spy(self: S3Transport, request: Any, **kw: Any) -> Any:
        sent.append((request.url, dict(request.headers)))
        return original(self, request, **kw)

    monkeypatch.setattr(S3Transport, "_send", spy)
    store = objects(garage)
    deleted = asyncio.run(
        store.empty_bucket("coop-mastodon", key.access_key_id, secret(key), batch=2)
    )
    assert deleted == 5
    assert admin_s3.list_objects_v2(Bucket="coop-mastodon")["KeyCount"] == 0
    assert admin_s3.list_multipart_uploads(Bucket="coop-mastodon").get("Uploads", []) == []
    batches = [headers for url, headers in sent if url.endswith("?delete")]
    assert len(batches) == 3 and all("Content-MD5" in h for h in batches)

    bucket = garage.bucket("coop-mastodon")
    assert bucket is not None
    asyncio.run(GarageAdmin("garage-a", garage.spec()).delete_bucket(bucket.id))
    assert garage.bucket("coop-mastodon") is None


def test_empty_bucket_needs_write(garage: GarageStandIn) -> None:
    key = app_key(garage, "coop-mastodon", read=True, write=False)
    garage.s3().put_object(Bucket="coop-mastodon", Key="kept", Body=b"x")
    with pytest.raises(
        FediError, match=r"1 of 1 objects were not deleted.*AccessDenied.*allow it write"
    ):
        asyncio.run(objects(garage).empty_bucket("coop-mastodon", key.access_key_id, secret(key)))
    assert garage.s3().list_objects_v2(Bucket="coop-mastodon")["KeyCount"] == 1
