"""`fedi-tui sandbox up`, then the main job on its state: apply, undeploy, `sandbox down`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fedi_tui.core.deploy.events import RunStarted, StepFinished
from fedi_tui.core.deploy.history import load_index, log_path, read_log
from fedi_tui.core.deploy.recorded import load_recorded
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.sandbox.layout import provider_dirs
from fedi_tui.sandbox.records import (
    alive,
    read_records,
    remaining,
    start_time,
    tcp_listeners,
)
from fedi_tui.sandbox.s3 import s3_config
from tests.sandbox.conftest import sandbox

pytestmark = [pytest.mark.real, pytest.mark.slow]


def fedi(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedi_tui", "-s", str(state), *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def admin(directory: Path, op: str) -> object:
    """Ask provider a's Garage admin API (with the sandbox's token and CA)."""
    a = provider_dirs(directory)[0]
    ready = json.loads(a.ready.read_text())
    answer = requests.get(
        f"{ready['garage']['admin_endpoint']}/v2/{op}",
        headers={"Authorization": f"Bearer {a.garage_token.read_text().strip()}"},
        verify=ready["garage"]["ca_file"],
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def s3_with_key(directory: Path, access_key_id: str, secret: str) -> object:
    import boto3

    ready = json.loads(provider_dirs(directory)[0].ready.read_text())
    return boto3.client(
        "s3",
        endpoint_url=ready["garage"]["s3_endpoint"],
        region_name="garage",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        config=s3_config(),
        verify=ready["garage"]["ca_file"],
    )


def test_apply_undeploy_and_down(running: Path) -> None:
    a = provider_dirs(running)[0]
    state_dir = a.root / ".fedi"

    done = fedi(a.state_file, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SANDBOX (nothing here is real)" in done.stdout

    # every machine ended done, and the health checks passed (from the deployment's log)
    run = load_index(state_dir).deployments[-1]
    assert run.outcome == "succeeded"
    assert {m: r.state for m, r in run.machines.items()} == {
        "coop-mastodon": "done",
        "host": "done",
    }
    events = list(read_log(log_path(state_dir, run.id)))
    assert isinstance(events[0], RunStarted) and events[0].sandbox
    finished = {e.step: e.outcome for e in events if isinstance(e, StepFinished)}
    assert finished["health-check:coop-mastodon"] == "done"
    assert finished["health-check:host"] == "done"

    # the VM is a real machine: fakepve started it, the supervisor booted an sshd for it
    recorded = load_recorded(state_dir)
    vm = recorded.machines["coop-mastodon"]
    assert vm.vmid == 10000 and vm.address == "127.0.31.10"
    vm_sshd = [r for r in read_records(running) if r.name == "sshd vm 10000"]
    assert vm_sshd and remaining(vm_sshd)
    assert (a.machines / "vm-10000" / "root" / "etc/nixos/fedi-tui/configuration.nix").exists()

    # buckets and keys exist on the S3 server: each key reaches its bucket
    secrets = SecretStore(state_dir)
    for name, key in recorded.keys.items():
        secret = secrets.key_secret(name)
        assert secret is not None
        s3 = s3_with_key(running, key.access_key_id, secret.get_secret_value())
        s3.put_object(Bucket=key.bucket, Key="hello.txt", Body=b"hi")  # type: ignore[attr-defined]
        s3.delete_object(Bucket=key.bucket, Key="hello.txt")  # type: ignore[attr-defined]
    assert sorted(b["globalAliases"][0] for b in admin(running, "ListBuckets")) == [  # type: ignore[attr-defined]
        "club-pixelfed",
        "coop-mastodon",
    ]

    # undeploy removes it all: the VM (and its machine), the keys, the buckets
    for operator in ("coop", "club"):
        done = fedi(a.state_file, "undeploy", "--operator", operator, "--prune-data", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
    assert admin(running, "ListBuckets") == []
    assert admin(running, "ListKeys") == []
    assert not load_recorded(state_dir).machines.get("coop-mastodon")
    assert not remaining(vm_sshd)
    assert not (a.machines / "vm-10000").exists()

    # down leaves no process and no listening port behind
    records = read_records(running)
    pids = remaining(records)
    assert pids
    ready = [json.loads(p.ready.read_text()) for p in provider_dirs(running)]
    ports = {(r.address, r.port) for r in records if r.port and alive(r)} | {
        ("127.0.0.1", int(url.rsplit(":", 1)[1]))
        for r in ready
        for url in (r["pve"]["url"], r["garage"]["admin_endpoint"], r["garage"]["s3_endpoint"])
    }
    assert ports <= {(address, port) for address, port, _ in tcp_listeners()}
    stopped = sandbox("down", "--dir", str(running))
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not remaining(records)
    assert [pid for pid in pids if start_time(pid) is not None] == []  # gone (or zombies)
    listening = {(address, port) for address, port, _ in tcp_listeners()}
    assert not listening & ports
    assert not running.exists()
