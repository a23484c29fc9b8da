"""The Garage admin stand-in itself: it refuses what the v2 spec does not allow, and its
buckets, keys and permissions are real on the moto S3 server behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from fedi_tui.sandbox.garage_spec import check_request, check_response
from tests.fixtures.garage import GarageStandIn, running_garage

pytestmark = pytest.mark.real


def call(
    garage: GarageStandIn,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> requests.Response:
    return requests.request(
        method,
        garage.admin_endpoint + path,
        params=params,
        data=None if body is None else json.dumps(body),
        headers={"Authorization": f"Bearer {garage.token}", "Content-Type": "application/json"},
        verify=garage.ca_file,
        timeout=10,
    )


def refused_by_spec(garage: GarageStandIn, response: requests.Response, words: str) -> None:
    """The stand-in answered 400 and recorded the violation (then forget it: it was meant)."""
    assert response.status_code == 400, response.text
    assert len(garage.violations) == 1 and words in garage.violations[0], garage.violations
    garage.app.violations.clear()


def test_a_request_the_spec_allows_passes(garage: GarageStandIn) -> None:
    made = call(garage, "POST", "/v2/CreateBucket", body={"globalAlias": "coop-mastodon"})
    assert made.status_code == 200
    bucket_id = made.json()["id"]
    update = {"quotas": {"maxSize": 1024, "maxObjects": None}}
    done = call(garage, "POST", "/v2/UpdateBucket", params={"id": bucket_id}, body=update)
    assert done.status_code == 200 and done.json()["quotas"]["maxSize"] == 1024
    assert garage.violations == []


def test_the_bucket_id_in_the_path_as_the_spec_literally_says_is_refused(
    garage: GarageStandIn,
) -> None:
    response = call(garage, "POST", "/v2/UpdateBucket/abc", body={"quotas": None})
    refused_by_spec(garage, response, "PathNotFound")


def test_an_update_without_the_bucket_id_is_refused(garage: GarageStandIn) -> None:
    response = call(garage, "POST", "/v2/UpdateBucket", body={"quotas": None})
    refused_by_spec(garage, response, "Missing required query parameter: id")


def test_a_misspelt_field_is_refused_not_ignored(garage: GarageStandIn) -> None:
    response = call(garage, "POST", "/v2/CreateBucket", body={"globalAliass": "x"})
    refused_by_spec(garage, response, "'globalAliass' was unexpected")


def test_a_wrong_type_is_refused(garage: GarageStandIn) -> None:
    body = {"bucketId": "b", "accessKeyId": "k", "permissions": {"read": "yes"}}
    response = call(garage, "POST", "/v2/AllowBucketKey", body=body)
    refused_by_spec(garage, response, "'yes' is not of type 'boolean'")


def test_an_undeclared_query_parameter_is_refused(garage: GarageStandIn) -> None:
    response = call(garage, "GET", "/v2/ListKeys", params={"limit": "10"})
    refused_by_spec(garage, response, "query parameter 'limit' is not in the spec")


def test_two_ways_to_name_a_bucket_at_once_are_refused(garage: GarageStandIn) -> None:
    response = call(garage, "GET", "/v2/GetBucketInfo", params={"id": "a", "globalAlias": "b"})
    refused_by_spec(garage, response, "exactly one of id, globalAlias, search")


def test_website_access_needs_its_index_document(garage: GarageStandIn) -> None:
    body = {"websiteAccess": {"enabled": True}}
    response = call(garage, "POST", "/v2/UpdateBucket", params={"id": "x"}, body=body)
    refused_by_spec(garage, response, "websiteAccess.enabled needs indexDocument")


def test_the_wrong_method_is_refused(garage: GarageStandIn) -> None:
    refused_by_spec(garage, call(garage, "GET", "/v2/CreateBucket"), "OperationNotFound")


def test_a_body_where_the_operation_takes_none_is_refused(garage: GarageStandIn) -> None:
    response = call(garage, "POST", "/v2/DeleteKey", params={"id": "x"}, body={"force": True})
    refused_by_spec(garage, response, "takes no request body")


def test_an_operation_the_stand_in_does_not_know_fails_the_test(garage: GarageStandIn) -> None:
    response = call(garage, "GET", "/v2/GetClusterStatus")
    assert response.status_code == 501
    assert garage.violations == ["GET /v2/GetClusterStatus: not implemented here"]
    garage.app.violations.clear()


def test_a_wrong_token_gets_garages_403(garage: GarageStandIn) -> None:
    response = requests.get(
        garage.admin_endpoint + "/v2/ListKeys",
        headers={"Authorization": "Bearer nope"},
        verify=garage.ca_file,
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"
    assert garage.violations == []  # an error the spec does not list, in Garage's error body


def _request(method: str, path: str) -> Request:
    return Request(EnvironBuilder(method=method, path=path, base_url="https://x").get_environ())


def test_responses_are_checked_too() -> None:
    health = _request("GET", "/v2/GetClusterHealth")
    short = Response(json.dumps({"status": "healthy"}), content_type="application/json")
    assert "'knownNodes' is a required property" in check_response(health, short)[0]
    odd = Response("oops", status=404)
    assert "must carry Garage's error body" in check_response(health, odd)[0]
    error = {"code": "NoSuchBucket", "message": "m", "region": "garage", "path": "/v2/x"}
    fine = Response(json.dumps(error), status=404, content_type="application/json")
    assert check_response(health, fine) == []
    extra = dict.fromkeys(
        [
            "knownNodes",
            "connectedNodes",
            "storageNodes",
            "storageNodesOk",
            "partitions",
            "partitionsQuorum",
            "partitionsAllOk",
        ],
        1,
    )
    good = Response(json.dumps({"status": "healthy", **extra}), content_type="application/json")
    assert check_response(health, good) == []
    noisy = Response(
        json.dumps({"status": "healthy", **extra, "bonus": 1}), content_type="application/json"
    )
    assert "'bonus' was unexpected" in check_response(health, noisy)[0]


def test_a_request_without_the_bearer_token_breaks_the_spec() -> None:
    problems = check_request(_request("GET", "/v2/ListKeys"))
    assert problems and "Security" in problems[0]


def test_buckets_and_keys_are_made_and_removed_on_the_s3_server(garage: GarageStandIn) -> None:
    bucket = call(garage, "POST", "/v2/CreateBucket", body={"globalAlias": "coop-mastodon"}).json()
    key = call(garage, "POST", "/v2/CreateKey", body={"name": "coop-mastodon"}).json()
    garage.s3().head_bucket(Bucket="coop-mastodon")
    iam = garage.moto.client("iam")
    user = garage.key("coop-mastodon").iam_user  # type: ignore[union-attr]
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key["accessKeyId"]]

    assert call(garage, "POST", "/v2/DeleteKey", params={"id": key["accessKeyId"]}).ok
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_user(UserName=user)
    assert call(garage, "POST", "/v2/DeleteBucket", params={"id": bucket["id"]}).ok
    assert garage.s3().list_buckets()["Buckets"] == []
    assert garage.violations == []


def test_bucket_usage_is_counted_on_the_s3_server(garage: GarageStandIn) -> None:
    call(garage, "POST", "/v2/CreateBucket", body={"globalAlias": "coop-mastodon"})
    garage.s3().put_object(Bucket="coop-mastodon", Key="a", Body=b"abc")
    info = call(garage, "GET", "/v2/GetBucketInfo", params={"globalAlias": "coop-mastodon"})
    assert (info.json()["objects"], info.json()["bytes"]) == (1, 3)


def test_two_providers_do_not_share_anything(
    garage: GarageStandIn, garage_b: GarageStandIn
) -> None:
    call(garage, "POST", "/v2/CreateBucket", body={"globalAlias": "coop-mastodon"})
    assert garage_b.s3().list_buckets()["Buckets"] == []
    assert garage_b.moto.port != garage.moto.port and garage_b.token != garage.token
    assert garage_b.fingerprint != garage.fingerprint


def test_the_stand_in_runs_outside_pytest_and_stops(tmp_path: Path) -> None:
    with running_garage(tmp_path, provider="sandbox") as garage:
        assert garage.token_env == "FEDI_TEST_GARAGE_SANDBOX_TOKEN"
        assert call(garage, "GET", "/v2/GetClusterHealth").json()["status"] == "healthy"
        assert "[storage.garage-s]" in garage.storage_toml("garage-s")
        assert garage.running
    assert not garage.running  # the admin socket is closed and the moto process has exited
