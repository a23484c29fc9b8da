"""`fedi-tui storage status` end to end: the real command, a state file, the Garage stand-in.

Each test runs ``python -m fedi_tui`` in a subprocess with the admin token in
its environment, as a sysadmin's cron job would.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.adapters.garage import GarageAdmin
from fedi_tui.core.deploy.recorded import BucketRecord, RecordedState, save_recorded
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real

GIB = 1024**3

STATE = """\
schema = 1

[provider]
name = "Test Hosting"
domain = "hosting.test"
contact = "noc@hosting.test"

[runtimes.host-1]
kind = "nixos"
host = "127.0.0.2"
ssh = {{ user = "root", key = "~/.ssh/fedi_ed25519" }}

{storage}
[operators.coop]
name = "Coop"
email = "board@coop.test"
domain = "coop.test"
runtime = "host-1"
storage = "garage-a"

[operators.coop.apps.mastodon]
enable = true
admin = {{ username = "alice", email = "alice@coop.test" }}
size = "tiny"

[operators.coop.apps.pixelfed]
enable = true
admin = {{ username = "alice", email = "alice@coop.test" }}
size = "tiny"
"""


def write_state(tmp_path: Path, *storages: str) -> Path:
    path = tmp_path / "fedi.toml"
    path.write_text(STATE.format(storage="\n".join(storages)))
    return path


def record(state: Path, **buckets: BucketRecord) -> None:
    save_recorded(state.parent / ".fedi", RecordedState(buckets=buckets))


def status(state: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedi_tui", "-s", str(state), "storage", "status", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def create(garage: GarageStandIn, name: str, quota_gib: int) -> str:
    async def go() -> str:
        async with GarageAdmin("garage-a", garage.spec()) as a:
            bucket = await a.ensure_bucket(name)
            await a.set_quota(bucket.id, quota_gib)
            return bucket.id

    return asyncio.run(go())


@pytest.fixture
def state(garage: GarageStandIn, tmp_path: Path) -> Path:
    return write_state(tmp_path, garage.storage_toml("garage-a"))


def test_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fedi_tui", "storage", "status", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: fedi-tui storage status [-h] [--json] [STORAGE]")
    assert "Exit 0 when every storage is healthy" in done.stdout


def test_before_anything_was_created(garage: GarageStandIn, state: Path) -> None:
    done = status(state, env=garage.env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"storage garage-a ({garage.admin_endpoint}): healthy — 3/3 storage nodes up, "
        "256/256 partitions with every replica, 256/256 with a quorum"
    )
    assert lines[1].split() == ["BUCKET", "OPERATOR", "OBJECTS", "SIZE", "QUOTA"]
    assert lines[2].split()[:2] == ["coop-mastodon", "coop"]
    assert lines[2].endswith("not created yet (fedi-tui apply creates it)")
    assert lines[3].split()[0] == "coop-pixelfed"
    assert done.stderr == ""


def test_usage_and_quota_of_recorded_buckets(garage: GarageStandIn, state: Path) -> None:
    mastodon = create(garage, "coop-mastodon", 50)
    pixelfed = create(garage, "coop-pixelfed", 10)  # fedi.toml wants 50 GiB for tiny
    old = create(garage, "coop-peertube", 200)  # its app was removed from fedi.toml
    garage.s3().put_object(Bucket="coop-mastodon", Key="media/a", Body=b"x" * 1536)
    garage.s3().put_object(Bucket="coop-mastodon", Key="media/b", Body=b"y" * 512)
    record(
        state,
        **{
            "coop-mastodon": BucketRecord(storage="garage-a", operator="coop", bucket_id=mastodon),
            "coop-pixelfed": BucketRecord(storage="garage-a", operator="coop", bucket_id=pixelfed),
            "coop-peertube": BucketRecord(storage="garage-a", operator="coop", bucket_id=old),
        },
    )
    done = status(state, env=garage.env())
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:5]}
    assert rows["coop-mastodon"].split()[:7] == [
        "coop-mastodon", "coop", "2", "2.0", "KiB", "50.0", "GiB",
    ]  # fmt: skip
    assert rows["coop-mastodon"].endswith("0.0% of quota")
    assert "fedi.toml wants a 50.0 GiB quota; apply sets it" in rows["coop-pixelfed"]
    assert "its app was removed; kept (plan --prune-data deletes it)" in rows["coop-peertube"]

    document = json.loads(status(state, "--json", env=garage.env()).stdout)
    assert document["format"] == 1 and document["healthy"] is True
    (storage,) = document["storages"]
    assert storage["health"]["status"] == "healthy" and storage["error"] is None
    by_name = {b["name"]: b for b in storage["buckets"]}
    assert by_name["coop-mastodon"] == {
        "name": "coop-mastodon",
        "operator": "coop",
        "id": mastodon,
        "state": "ok",
        "public": True,
        "objects": 2,
        "bytes": 2048,
        "quota_bytes": 50 * GIB,
        "wanted_quota_bytes": 50 * GIB,
        "error": None,
    }
    assert by_name["coop-peertube"]["wanted_quota_bytes"] is None


def test_a_recorded_bucket_that_is_gone_fails(garage: GarageStandIn, state: Path) -> None:
    record(
        state,
        **{"coop-mastodon": BucketRecord(storage="garage-a", operator="coop", bucket_id="f" * 64)},
    )
    done = status(state, env=garage.env())
    assert done.returncode == 1
    assert "MISSING: recorded as created, not found on the storage; plan again" in done.stdout


@pytest.mark.parametrize("preset", ["degraded", "unavailable"])
def test_an_unhealthy_cluster_fails(garage: GarageStandIn, state: Path, preset: Any) -> None:
    bucket_id = create(garage, "coop-mastodon", 50)
    record(
        state,
        **{"coop-mastodon": BucketRecord(storage="garage-a", operator="coop", bucket_id=bucket_id)},
    )
    garage.set_health(preset)
    done = status(state, env=garage.env())
    assert done.returncode == 1
    up = {"degraded": 2, "unavailable": 1}[preset]
    assert f"): {preset.upper()} — {up}/3 storage nodes up" in done.stdout.splitlines()[0]
    mastodon = next(line for line in done.stdout.splitlines() if "coop-mastodon" in line)
    if preset == "unavailable":
        assert mastodon.endswith("not read: the cluster has no quorum")
    else:
        assert mastodon.endswith("0.0% of quota")


def test_a_refused_token_says_where_and_never_shows_it(garage: GarageStandIn, state: Path) -> None:
    done = status(state, env={garage.token_env: "wrong-token"})
    assert done.returncode == 1
    assert done.stdout.startswith(
        f"storage garage-a ({garage.admin_endpoint}): ERROR: read the cluster health: Garage "
    )
    assert f"refused the admin token read from env '{garage.token_env}'" in done.stdout
    assert "wrong-token" not in done.stdout + done.stderr
    assert garage.token not in done.stdout + done.stderr

    as_json = status(state, "--json", env={garage.token_env: "wrong-token"})
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["storages"][0]["error"].startswith("storage garage-a")
    assert as_json.stderr.startswith("fedi-tui: storage garage-a")


def test_one_storage_down_does_not_hide_the_other(
    garage: GarageStandIn, garage_b: GarageStandIn, tmp_path: Path
) -> None:
    state = write_state(
        tmp_path, garage.storage_toml("garage-a"), garage_b.storage_toml("garage-b")
    )
    garage_b.fail("GetClusterHealth", status=503)
    done = status(state, env={**garage.env(), **garage_b.env()})
    assert done.returncode == 1
    assert f"storage garage-a ({garage.admin_endpoint}): healthy" in done.stdout
    assert "storage garage-b" in done.stdout and "Garage failed (HTTP 503" in done.stdout
    only_a = status(state, "garage-a", env={**garage.env(), **garage_b.env()})
    assert only_a.returncode == 0 and "garage-b" not in only_a.stdout
    assert len([c for c in garage_b.calls if c.op == "GetClusterHealth"]) == 1


def test_an_unknown_storage_name(garage: GarageStandIn, state: Path) -> None:
    done = status(state, "garage-z", env=garage.env())
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"fedi-tui: storage garage-z: no such storage in {state} ([storage.<name>]); "
        "known: garage-a"
    )
    assert garage.calls == []
