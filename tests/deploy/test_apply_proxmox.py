"""apply on Proxmox: fakepve provides the VMs, loopback sshd hosts are what they boot into.

Each runtime's network pool starts at a deploy host's address (127.0.1N.10,
port 22), so the VM fakepve clones for the plan's first machine is reachable
over SSH there. When fakepve starts a clone, the sandbox's Booter
(`fedi_tui.sandbox.pve`) turns on its guest agent, answering with that host's
address and SSH host key, as a real NixOS guest would — so the key is pinned
from the agent, with no trust on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from fakepve import FakePve  # type: ignore[import-untyped]

from fedi_tui.core.deploy.events import StepFinished
from fedi_tui.core.workspace import Workspace
from fedi_tui.sandbox.pve import Booter, add_nixos_template
from tests.deploy.conftest import HostFactory
from tests.deploy.engine_support import apply
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.deployhosts import DeployHost
from tests.fixtures.garage import GarageStandIn

pytestmark = pytest.mark.real

TOKEN_ENV = "FEDI_TEST_PVE_TOKEN"
TOKEN = "0f7d9c2e-5b1a-4e3c-9a8d-6c4b2e1f0a9d"


@pytest.fixture
def pve(fakepve: FakePve, monkeypatch: pytest.MonkeyPatch) -> FakePve:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    fakepve.apitokens["root@pam!fedi"] = TOKEN
    fakepve.add_node("pve2")
    add_nixos_template(fakepve)
    return fakepve


def booter(pve: FakePve, hosts: list[DeployHost]) -> Booter:
    """Gives every started VM the guest agent of the deploy host at its address (the agent
    also reports a TEST-NET address first, as a second interface)."""
    by_address = {h.ssh.address: h for h in hosts}

    def boot(_vm: Any, address: str) -> str | None:
        host = by_address.get(address)
        return None if host is None else host.ssh.host_public_key_file.read_text()

    return Booter(pve, boot, others=("192.0.2.10",))


@pytest.fixture
def vms(
    pve: FakePve, deploy_hosts: HostFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[DeployHost]]:
    """Two VM hosts on 127.0.11.10 and 127.0.12.10, port 22, one login key for both."""
    keys = tmp_path_factory.mktemp("vmkey")
    import subprocess

    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(keys / "k")],
        check=True,
    )
    hosts = [deploy_hosts(address=f"127.0.1{n}.10", port=22, client_key=keys / "k") for n in (1, 2)]
    started = booter(pve, hosts)
    yield hosts
    started.close()


def write_state(
    directory: Path,
    pve: FakePve,
    cafile: str,
    hosts: list[DeployHost],
    garage: GarageStandIn,
    *,
    size: str = "tiny",
    nodes: tuple[str, ...] = ("pve1",),
) -> Path:
    """Two Proxmox runtimes on one fakepve (each VM host has its own directories), one
    operator on each, a Mastodon each."""
    doc: dict[str, Any] = {
        "schema": 1,
        "provider": {"name": "P", "domain": "p.test", "contact": "noc@p.test"},
        "runtimes": {},
        "storage": {"garage": garage.storage_entry()},
        "operators": {},
    }
    for n, host in enumerate(hosts, 1):
        net = f"127.0.1{n}"
        doc["runtimes"][f"pve{n}"] = {
            "kind": "proxmox",
            "api": pve.url,
            "token_id": "root@pam!fedi",
            "token": {"env": TOKEN_ENV},
            "ca_file": cafile,
            "template": 9000,
            "nodes": {n: {"cores": 32, "memory_gib": 128, "disk_gib": 2000} for n in nodes},
            "network": {
                "cidr": f"{net}.0/24",
                "gateway": f"{net}.1",
                "pool": f"{net}.10-{net}.20",
                "dns": ["127.0.0.53"],
            },
            "vmids": f"1{n}000-1{n}099",
            "ssh": {"user": host.ssh.user, "key": str(host.ssh.client_key)},
            "system": {"base_modules": [str(host.hardware_configuration)]},
            "deploy": host.deploy_settings(),
        }
        doc["operators"][f"op{n}"] = {
            "name": f"Op {n}",
            "email": f"a@op{n}.test",
            "domain": f"op{n}.test",
            "runtime": f"pve{n}",
            "storage": "garage",
            "apps": {
                "mastodon": {
                    "enable": True,
                    "size": size,
                    "admin": {"username": "admin", "email": f"a@op{n}.test"},
                }
            },
        }
    path = directory / "fedi.toml"
    path.write_text(tomlkit.dumps(doc))
    return path


def fedi_vms(pve: FakePve) -> list[Any]:
    return [v for v in pve.vms if "fedi-tui" in str(v.config.get("tags", ""))]


@pytest.mark.fakepve(time_scale=0)
def test_apply_provisions_vms_and_deploys_onto_them(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    result, sink = apply(path)
    assert result.outcome == "succeeded", result.messages
    made = {v.vmid: v for v in fedi_vms(pve)}
    assert sorted(made) == [11000, 12000]
    vm = made[11000]
    assert vm.status == "running"
    assert vm.config["ipconfig0"] == "ip=127.0.11.10/24,gw=127.0.11.1"
    assert "fedi-tui" in vm.config["tags"] and "op1-mastodon" in vm.config["tags"]
    assert str(path) in vm.config["description"]
    assert int(vm.config["cores"]) == 2 and vm.node == "pve1"
    # the host key came through the guest agent and is recorded (pinned)
    recorded = Workspace.open(path).recorded.machines["op1-mastodon"]
    assert recorded.host_key == vms[0].ssh.host_public_key
    assert recorded.vmid == 11000 and recorded.address == "127.0.11.10"
    # the same run pushed, switched and health-checked the VM
    assert vms[0].generation() == 1 and vms[1].generation() == 1
    assert (vms[0].config_dir / "configuration.nix").exists()
    task_lines = [
        e
        for e in sink.events
        if getattr(e, "stream", None) == "task" and e.machine == "op1-mastodon"
    ]
    assert task_lines, "the Proxmox task logs reach the deployment's log"
    # idempotent: one VM per machine, nothing to do
    again, sink2 = apply(path)
    assert again.outcome == "succeeded"
    assert not [e for e in sink2.events if isinstance(e, StepFinished)]
    assert len(fedi_vms(pve)) == 2


@pytest.mark.fakepve(time_scale=0)
@pytest.mark.slow
def test_a_size_change_reconfigures_and_undeploy_destroys(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    assert apply(path)[0].outcome == "succeeded"
    path.write_text(path.read_text().replace('size = "tiny"', 'size = "small"', 1))
    plan = Workspace.open(path).plan().plan
    assert "resize-vm:op1-mastodon" in {s.id for s in plan.steps}
    assert "create-vm:op1-mastodon" not in {s.id for s in plan.steps}
    result, _ = apply(path)
    assert result.outcome == "succeeded", result.messages
    vm = next(v for v in fedi_vms(pve) if v.vmid == 11000)
    assert int(vm.config["memory"]) == 6 * 1024  # small Mastodon: 6 GiB
    assert len(fedi_vms(pve)) == 2  # reconfigured, not recreated

    done = fedi(path, "undeploy", "--operator", "op1", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(v.vmid for v in fedi_vms(pve)) == [12000]
    assert "op1-mastodon" not in Workspace.open(path).recorded.machines


@pytest.mark.fakepve(time_scale=0)
def test_a_task_error_leaves_no_untracked_vm(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    pve.fail("POST", "/nodes/pve1/qemu/11000/status/start", 500, "start failed: no space", times=50)
    result, sink = apply(path)
    assert result.machines["op1-mastodon"] == "failed"
    assert result.machines["op2-mastodon"] == "done"
    finished = {e.step: e for e in sink.events if isinstance(e, StepFinished)}
    assert "start failed" in finished["create-vm:op1-mastodon"].message
    # the half-made VM is recorded with its VMID, so the next plan finishes it
    recorded = Workspace.open(path).recorded.machines["op1-mastodon"]
    assert [v.vmid for v in fedi_vms(pve) if v.vmid // 1000 == 11] == [recorded.vmid]
    plan = Workspace.open(path).plan().plan
    assert "create-vm:op1-mastodon" in {s.id for s in plan.steps}
    pve.failures.clear()
    again, _ = apply(path)
    assert again.outcome == "succeeded", again.messages
    assert sorted(v.vmid for v in fedi_vms(pve)) == [11000, 12000]
    assert Workspace.open(path).plan().plan.empty


@pytest.mark.fakepve(time_scale=0)
def test_apply_looks_at_the_cluster_and_avoids_an_offline_node(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms[:1], garage, nodes=("pve1", "pve2"))
    assert Workspace.open(path).plan().config.machine("op1-mastodon").node == "pve1"  # declared
    pve.vm(9000).node = "pve2"  # the template lives on the node that stays up
    pve.set_node_offline("pve1")
    done = fedi(path, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Observed runtime pve1" in done.stdout and "pve1 offline" in done.stdout
    assert [v.node for v in fedi_vms(pve)] == ["pve2"]
    assert Workspace.open(path).recorded.machines["op1-mastodon"].node == "pve2"
