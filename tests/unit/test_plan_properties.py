"""Properties of mapping and planning over generated states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedi_tui.cli import main
from fedi_tui.core.deploy.effects import apply_plan_effects
from fedi_tui.core.deploy.mapping import PlacementError
from fedi_tui.core.deploy.recorded import RecordedState, dump_recorded
from tests.unit.plan_support import applied, plan_text

APPS = ("mastodon", "peertube", "pixelfed")
SIZES = ("tiny", "small", "medium")

operator = st.fixed_dictionaries(
    {
        "runtime": st.sampled_from(["pve", "pve", "pve", "host"]),
        "apps": st.dictionaries(st.sampled_from(APPS), st.sampled_from(SIZES), max_size=3),
    }
)
states = st.fixed_dictionaries(
    {
        "placement": st.sampled_from(["vm-per-app", "vm-per-operator"]),
        "operators": st.lists(operator, min_size=1, max_size=8),
    }
)


def state_text(shape: dict) -> str:  # type: ignore[type-arg]
    doc = {
        "schema": 1,
        "provider": {"name": "P", "domain": "p.test", "contact": "noc@p.test"},
        "runtimes": {
            "pve": {
                "kind": "proxmox",
                "api": "https://127.0.0.1:8006",
                "token_id": "root@pam!fedi",
                "token": {"env": "T"},
                "template": 9000,
                "placement": shape["placement"],
                "nodes": {
                    f"n{i}": {"cores": 16, "memory_gib": 64, "disk_gib": 1000} for i in range(4)
                },
                "network": {
                    "cidr": "127.0.30.0/24",
                    "gateway": "127.0.30.1",
                    "pool": "127.0.30.2-127.0.30.250",
                },
                "ssh": {"key": "k"},
            },
            "host": {"kind": "nixos", "host": "127.0.0.9", "ssh": {"key": "k"}},
        },
        "storage": {
            "s3": {
                "kind": "garage",
                "s3_endpoint": "https://127.0.0.1:3900",
                "admin_endpoint": "https://127.0.0.1:3903",
                "admin_token": {"env": "G"},
            }
        },
        "operators": {},
    }
    host_apps: set[str] = set()
    for i, op in enumerate(shape["operators"]):
        apps = {}
        for app, size in op["apps"].items():
            if op["runtime"] == "host" and app in host_apps:
                continue  # one instance of an app per NixOS host
            if op["runtime"] == "host":
                host_apps.add(app)
            apps[app] = {
                "enable": True,
                "size": size,
                "admin": {"username": "a", "email": "a@x.test"},
            }
        doc["operators"][f"op{i}"] = {  # type: ignore[index]
            "name": f"Op {i}",
            "email": f"op{i}@x.test",
            "domain": f"op{i}.test",
            "runtime": op["runtime"],
            "storage": "s3",
            "apps": apps,
        }
    return tomlkit.dumps(doc)


def _unique(values: list[object]) -> bool:
    present = [v for v in values if v is not None]
    return len(present) == len(set(present))


common = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(states)
def test_planning_is_deterministic(shape: dict) -> None:  # type: ignore[type-arg]
    text = state_text(shape)
    a, b = plan_text(text), plan_text(text)
    assert a.plan == b.plan
    assert a.config == b.config


@common
@given(states)
def test_applying_the_plan_then_planning_again_is_empty(shape: dict) -> None:  # type: ignore[type-arg]
    text = state_text(shape)
    planned = plan_text(text)
    after = apply_plan_effects(RecordedState(), planned.plan, planned.config, planned.rendered)
    again = plan_text(text, after)
    assert again.plan.steps == ()
    assert str(again.plan.summary) == "0 to create, 0 to change, 0 to destroy"


@common
@given(states, states)
def test_existing_machines_stay_and_nothing_is_shared(first: dict, second: dict) -> None:  # type: ignore[type-arg]
    """Plan state A, apply it, then plan state B: A's surviving VMs keep node, VMID and address;
    no two machines share an address or a VMID; recorded addresses are never reused."""
    before = applied(state_text(first))
    planned = plan_text(state_text(second), before)
    machines = planned.config.machines
    vms = [m for m in machines if m.kind == "proxmox"]
    assert _unique([m.address for m in vms]) and _unique([m.vmid for m in vms])
    for m in vms:
        rec = before.machines.get(m.name)
        if rec is not None:
            assert (m.node, m.vmid, m.address) == (rec.node, rec.vmid, rec.address)
        else:
            assert m.address not in before.used_addresses()
            assert m.vmid not in before.used_vmids()


# --- the command line ----------------------------------------------------------------


def test_plan_exit_codes_and_json(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-s", str(demo_copy), "plan", "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == 1
    assert set(doc) == {"format", "summary", "steps", "machines", "diffs", "kept_buckets"}
    assert doc["summary"] == {"create": 14, "change": 0, "destroy": 0}
    ids = [s["id"] for s in doc["steps"]]
    for step in doc["steps"]:  # dependencies come first
        assert all(ids.index(d) < ids.index(step["id"]) for d in step["depends_on"])
    # record everything as done: the plan is now empty and exits 0
    planned = plan_text(demo_copy.read_text())
    done = apply_plan_effects(RecordedState(), planned.plan, planned.config, planned.rendered)
    (demo_copy.parent / ".fedi").mkdir()
    (demo_copy.parent / ".fedi" / "recorded.json").write_text(dump_recorded(done))
    assert main(["-s", str(demo_copy), "plan"]) == 0
    assert "0 to create, 0 to change, 0 to destroy" in capsys.readouterr().out
    # a changed option shows as a configuration diff of that line
    assert (
        main(
            ["-s", str(demo_copy), "set", "operators.coop.apps.mastodon.media_retention_days", "60"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["-s", str(demo_copy), "plan"]) == 2
    out = capsys.readouterr().out
    assert "-      mediaRetentionDays = 14;" in out and "+      mediaRetentionDays = 60;" in out
    assert "0 to create, 1 to change, 0 to destroy" in out


def test_plan_explain_and_errors(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["-s", str(demo_copy), "plan", "--explain", "--no-diff"]) == 2
    assert "most free memory" in capsys.readouterr().out
    assert main(["-s", str(demo_copy), "plan", "--operator", "nobody"]) == 1
    facts = tmp_path / "facts.json"
    facts.write_text(
        '{"runtimes": {"pve-a": {"nodes": {"pve1": {"cores": 1, "memory_gib": 1, "disk_gib": 1},'
        ' "pve2": {"cores": 1, "memory_gib": 2, "disk_gib": 1}}}}}'
    )
    assert main(["-s", str(demo_copy), "plan", "--facts", str(facts)]) == 1
    err = capsys.readouterr().err
    assert "no node has" in err and "most free: pve2 with 2 GiB" in err


@common
@given(states, st.sampled_from([1.0, 2.0, 4.0]))
def test_no_node_is_committed_beyond_its_ratio(shape: dict, cpu_ratio: float) -> None:  # type: ignore[type-arg]
    doc = tomlkit.parse(state_text(shape))
    doc["runtimes"]["pve"]["overcommit"] = {"cpu": cpu_ratio}  # type: ignore[index]
    for node in doc["runtimes"]["pve"]["nodes"].values():  # type: ignore[index, union-attr]
        node["cores"] = 6
    text = tomlkit.dumps(doc)
    try:
        planned = plan_text(text)
    except PlacementError as exc:
        assert all("needs" in r or "exhausted" in r for r in exc.reasons)
        return
    used: dict[str, list[int]] = {}
    for m in planned.config.machines:
        if m.node is not None:
            totals = used.setdefault(m.node, [0, 0, 0])
            totals[0] += m.cores
            totals[1] += m.memory_gib
            totals[2] += m.disk_gib
    for cores, memory, disk in used.values():
        assert cores <= 6 * cpu_ratio and memory <= 64 and disk <= 1000


def test_a_corrupt_recorded_state_is_reported_not_a_traceback(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo_copy.parent / ".fedi").mkdir()
    (demo_copy.parent / ".fedi" / "recorded.json").write_text('{"schema": 1, "machines": [}')
    assert main(["-s", str(demo_copy), "plan"]) == 1
    err = capsys.readouterr().err
    assert "recorded.json:1:" in err and "restore it from a backup" in err
