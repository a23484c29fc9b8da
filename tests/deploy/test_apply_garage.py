"""apply with a Garage: buckets and keys made on the stand-in, proven over real S3, pushed.

The storage is the Garage admin stand-in (every call checked against Garage's
v2 spec) over a moto S3 server process that enforces each key's permissions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.core.deploy.events import StepFinished, StepStarted
from fedi_tui.core.workspace import Workspace
from tests.deploy.conftest import HostFactory, write_state
from tests.deploy.engine_support import apply
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real


@pytest.mark.slow
def test_apply_creates_buckets_and_keys_and_wires_them(
    tmp_path: Path, deploy_hosts: HostFactory, garage: GarageStandIn
) -> None:
    hosts = [deploy_hosts(), deploy_hosts()]
    path = write_state(tmp_path, hosts, garage=garage, apps=("mastodon", "pixelfed"))
    result, sink = apply(path)
    assert result.outcome == "succeeded", result.messages
    recorded = Workspace.open(path).recorded
    assert set(recorded.buckets) == {
        "op1-mastodon",
        "op1-pixelfed",
        "op2-mastodon",
        "op2-pixelfed",
    }
    assert all(b.created and b.bucket_id for b in recorded.buckets.values())
    made = garage.bucket("op1-mastodon")
    assert made is not None and made.website  # public media: served by the web endpoint
    assert made.max_size == Workspace.open(path).config.buckets[0].quota_gib * 1024**3
    key = recorded.keys["op1-mastodon"]
    assert key.access_key_id is not None
    secret = (tmp_path / ".fedi/secrets/keys/op1-mastodon").read_text()
    # the key really works on its bucket, and only there (moto enforces it)
    s3 = garage.s3(key.access_key_id, secret)
    s3.put_object(Bucket="op1-mastodon", Key="hello.txt", Body=b"hi")
    with pytest.raises(Exception, match=r"AccessDenied|Forbidden|403"):
        s3.put_object(Bucket="op2-mastodon", Key="x", Body=b"no")
    # the key reached the machine as an owner-only file, and its id in the app's env
    pushed = (hosts[0].secrets_dir / "mastodon" / "s3.env").read_text()
    assert f"AWS_ACCESS_KEY_ID={key.access_key_id}" in pushed
    assert secret in pushed
    config = (hosts[0].config_dir / "configuration.nix").read_text()
    assert '"op1-mastodon"' in config and secret not in config
    assert 'publicUrl = "https://op1-mastodon.web.127-0-0-1.test"' in config
    assert garage.violations == []
    # nothing secret in the events
    assert all(secret not in e.to_json() for e in sink.events)

    before = len(garage.mutations())
    again, sink2 = apply(path)
    assert again.outcome == "succeeded"
    assert not [e for e in sink2.events if isinstance(e, StepStarted)]
    assert len(garage.mutations()) == before  # a second run changes nothing


def test_a_storage_failure_skips_only_what_needs_it(
    tmp_path: Path, deploy_hosts: HostFactory, garage: GarageStandIn
) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host], garage=garage)
    garage.fail("CreateKey", status=503)
    result, sink = apply(path)
    assert result.outcome == "failed"
    finished = {e.step: e for e in sink.events if isinstance(e, StepFinished)}
    assert finished["create-bucket:op1-mastodon"].outcome == "done"
    assert finished["create-key:op1-mastodon"].outcome == "failed"
    assert finished["push-config:host1"].outcome == "skipped"
    assert "create-key:op1-mastodon failed" in finished["push-config:host1"].message
    assert host.generation() == 0
    # the next apply finishes it
    assert apply(path)[0].outcome == "succeeded"
    assert Workspace.open(path).plan().plan.empty


@pytest.mark.slow
def test_undeploy_revokes_and_keeps_the_bucket_unless_pruned(
    tmp_path: Path, deploy_hosts: HostFactory, garage: GarageStandIn
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [first, second], garage=garage)
    assert fedi(path, "apply", "--yes").returncode == 0
    key = Workspace.open(path).recorded.keys["op1-mastodon"]
    secret = (tmp_path / ".fedi/secrets/keys/op1-mastodon").read_text()
    garage.s3(key.access_key_id or "", secret).put_object(
        Bucket="op1-mastodon", Key="media/1.png", Body=b"png"
    )

    done = fedi(path, "undeploy", "--operator", "op1", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bucket op1-mastodon of a removed app is kept" in done.stdout
    assert "clear-config host1" in done.stdout
    assert not first.config_dir.exists() and not first.secrets_dir.exists()
    assert first.generation() == 2  # switched to its base system, without apps
    assert "enable = false" in path.read_text()
    recorded = Workspace.open(path).recorded
    assert "host1" not in recorded.machines and "op1-mastodon" not in recorded.keys
    assert "op1-mastodon" in recorded.buckets  # data is kept
    with pytest.raises(Exception, match=r"InvalidAccessKeyId|AccessDenied|Forbidden|403"):
        garage.s3(key.access_key_id or "", secret).get_object(Bucket="op1-mastodon", Key="x")
    assert second.generation() == 1  # the other operator is untouched

    pruned = fedi(path, "apply", "--yes", "--prune-data")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert "op1-mastodon" not in Workspace.open(path).recorded.buckets
    assert garage.bucket("op1-mastodon") is None
    assert garage.key("fedi-tui-prune-op1-mastodon") is None  # the emptying key went too
    assert Workspace.open(path).plan(prune_data=True).plan.empty
    assert garage.violations == []
