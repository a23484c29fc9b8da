"""The moto S3 server process really checks who may do what (IAM authentication mode)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.s3 import REGION, MotoFactory, MotoServer

pytestmark = pytest.mark.real


@pytest.fixture
def moto(moto_factory: MotoFactory) -> MotoServer:
    server = moto_factory("a")
    server.reset()
    return server


def code(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


def user_with_key(moto: MotoServer, name: str, policy: dict[str, object] | None) -> tuple[str, str]:
    iam = moto.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def only(bucket: str) -> dict[str, object]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                "Resource": [arn, f"{arn}/*"],
            }
        ],
    }


def test_permissions_are_enforced(moto: MotoServer) -> None:
    admin = moto.client("s3")
    for bucket in ("mine", "theirs"):
        admin.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3 = moto.client("s3", *user_with_key(moto, "app", only("mine")))
    s3.put_object(Bucket="mine", Key="k", Body=b"v")
    assert s3.get_object(Bucket="mine", Key="k")["Body"].read() == b"v"
    assert code(lambda: s3.put_object(Bucket="theirs", Key="k", Body=b"v")) == "AccessDenied"
    assert code(lambda: s3.list_objects_v2(Bucket="theirs")) == "AccessDenied"
    assert code(lambda: s3.delete_object(Bucket="mine", Key="k")) == "AccessDenied"


def test_a_key_without_a_policy_may_do_nothing(moto: MotoServer) -> None:
    s3 = moto.client("s3", *user_with_key(moto, "nobody", None))
    assert code(lambda: s3.list_buckets()) == "AccessDenied"


def test_a_wrong_secret_and_an_unknown_key_are_refused(moto: MotoServer) -> None:
    key_id, _ = user_with_key(moto, "app", only("mine"))
    assert code(lambda: moto.client("s3", key_id, "x" * 40).list_buckets()) == (
        "SignatureDoesNotMatch"
    )
    unknown = moto.client("s3", "AKIAUNKNOWN000000000", "x" * 40)
    assert code(lambda: unknown.list_buckets()) == "InvalidAccessKeyId"


def test_reset_empties_the_server_and_replaces_the_admin(moto: MotoServer) -> None:
    old = (moto.admin_access_key_id, moto.admin_secret)
    moto.client("s3").create_bucket(
        Bucket="gone", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    moto.reset()
    assert moto.client("s3").list_buckets()["Buckets"] == []
    assert code(lambda: moto.client("s3", *old).list_buckets()) == "InvalidAccessKeyId"
