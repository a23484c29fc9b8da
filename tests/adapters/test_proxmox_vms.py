"""The Hypervisor port on fakepve: create, re-run, reconfigure, stop, destroy, find, list,
and what the guest agent tells — every setting read back through the API afterwards
with a plain proxmoxer client (not through the adapter that wrote it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import asyncssh
import pytest
from fakepve import FakePve  # type: ignore[import-untyped]
from proxmoxer import ProxmoxAPI

from fedi_tui.adapters.proxmox import ProxmoxClient, ProxmoxError
from fedi_tui.adapters.proxmox_agent import HOST_KEY_FILE
from fedi_tui.core.deploy.ports import Hypervisor, ObservedVm
from tests.adapters.proxmox_fixtures import (
    KEY,
    LOGIN_KEY,
    TOKEN,
    Lines,
    apply_resizes,
    fedi_vm,
    hypervisor,
    pve,
    run,
    vm_request,
    vmids,
)
from tests.fixtures.sshd import FAST_USER, SshdFactory

pytestmark = pytest.mark.real

__all__ = ["pve"]  # fixture

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhLQBaAH5OD1OMuuwFlyAbmxCf4NYIJ0F7+qBE0QbQe"


@pytest.fixture
def hv(pve: FakePve, fakepve_cafile: str) -> Iterator[ProxmoxClient]:
    client = hypervisor(pve, fakepve_cafile)
    yield client
    client.close_now()


@pytest.fixture
def api(pve: FakePve, fakepve_cafile: str) -> Any:
    """An independent API client, to read back what the adapter did."""
    return ProxmoxAPI(
        "127.0.0.1",
        port=pve.port,
        user="root@pam",
        token_name="fedi",
        token_value=TOKEN,
        verify_ssl=fakepve_cafile,
    )


def listed(api: Any, vmid: int) -> dict[str, Any]:
    return next(g for g in api.cluster.resources.get(type="vm") if g["vmid"] == vmid)


def mutations(pve: FakePve) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in pve.requests if m in ("POST", "PUT", "DELETE")]


def test_the_client_is_a_hypervisor(hv: ProxmoxClient) -> None:
    port: Hypervisor = hv  # mypy checks the structure; this checks it at run time too
    assert port.name == "pve-a"


@pytest.mark.fakepve(time_scale=0.01)
def test_create_sets_every_setting_and_the_api_reads_it_back(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    lines = Lines()
    request = vm_request("coop-mastodon", 10000, cores=4, memory_gib=12, disk_gib=60)
    vm = run(hv.create_vm(request, lines))
    assert vm == ObservedVm(
        vmid=10000,
        node="pve1",
        running=True,
        address="127.0.10.10",
        machine="coop-mastodon",
        cores=4,
        memory_gib=12.0,
        disk_gib=60.0,
        created=True,
    )
    cfg = api.nodes("pve1").qemu(10000).config.get()
    assert (str(cfg["cores"]), str(cfg["memory"])) == ("4", "12288")
    assert set(cfg["tags"].split(";")) == {"fedi-tui", "fedi-tui.coop-mastodon", "nixos"}
    assert cfg["ciuser"] == "root"
    assert unquote(cfg["sshkeys"]).splitlines() == [LOGIN_KEY, KEY]  # fedi-tui's key first
    assert cfg["ipconfig0"] == "ip=127.0.10.10/24,gw=127.0.10.1"
    assert cfg["nameserver"] == "127.0.0.53"
    assert cfg["description"].strip() == (
        "Managed by fedi-tui: machine coop-mastodon of runtime pve-a, from "
        "/srv/fedi/fedi.toml. Change that file rather than this VM: the next apply undoes "
        "changes made here."
    )  # the one-time creation mark is gone
    model, *options = cfg["net0"].split(",")
    assert model.startswith("virtio=") and model != "virtio=BC:24:11:00:00:01"  # its own MAC
    assert sorted(options) == ["bridge=vmbr0", "firewall=1"]
    assert cfg["scsi0"].startswith("local-lvm:vm-10000-disk-")
    entry = listed(api, 10000)
    assert (entry["node"], entry["status"], entry["name"]) == ("pve1", "running", "coop-mastodon")
    # fakepve records a disk resize without applying it: check what was asked.
    resize = [b for m, p, b in pve.requests if m == "PUT" and p.endswith("/qemu/10000/resize")]
    assert resize == [b"disk=scsi0&size=60G"]
    assert [t["type"] for t in pve.tasklog] == ["qmclone", "qmconfig", "resize", "qmstart"]
    assert all(t["exitstatus"] == "OK" for t in pve.tasklog)
    # The task log lines reached the sink, marked with their task.
    assert lines.has("qmclone: creating a clone of VM 9000 with ID 10000")
    assert lines.has("qmstart: TASK OK")


def test_create_twice_makes_one_vm_and_changes_nothing_the_second_time(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    first = run(hv.create_vm(vm_request("coop-web", 10000)))
    apply_resizes(pve)
    before = len(pve.requests)
    lines = Lines()
    again = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert again.vmid == first.vmid and again.created is False and again.restarted is False
    assert [vm.vmid for vm in pve.vms if "coop-web" in str(vm.config.get("tags"))] == [10000]
    assert mutations(pve)[-1][1].endswith("/status/start")  # the last change was the first run's
    assert not [m for m, _, _ in pve.requests[before:] if m != "GET"]
    assert lines.has("VM 10000 on node pve1 is there from an earlier run")
    assert lines.has("nothing to change")


def test_a_proposed_vmid_someone_else_has_is_skipped(pve: FakePve, hv: ProxmoxClient) -> None:
    pve.add_vm(10000, "handmade", node="pve2", config={"tags": "prod"})
    lines = Lines()
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert vm.vmid == 10001
    assert lines.has("VMID 10000 is taken; using 10001")
    assert pve.vm(10000).name == "handmade" and pve.vm(10000).config["tags"] == "prod"


@pytest.mark.fakepve(time_scale=0.01)
def test_a_size_change_reconfigures_restarts_and_does_not_recreate(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000, cores=2, memory_gib=4, disk_gib=20)))
    apply_resizes(pve)
    bigger = vm_request("coop-web", 10000, cores=6, memory_gib=16, disk_gib=80)
    lines = Lines()
    vm = run(hv.reconfigure_vm(bigger, lines))
    assert (vm.vmid, vm.created, vm.restarted) == (10000, False, True)
    cfg = api.nodes("pve1").qemu(10000).config.get()
    assert (str(cfg["cores"]), str(cfg["memory"])) == ("6", "16384")  # applied by the restart
    assert not [r for r in api.nodes("pve1").qemu(10000).pending.get() if "pending" in r]
    resizes = [b for m, p, b in pve.requests if m == "PUT" and p.endswith("/resize")]
    assert resizes == [b"disk=scsi0&size=20G", b"disk=scsi0&size=80G"]
    assert [t["type"] for t in pve.tasklog].count("qmclone") == 1
    assert [t["type"] for t in pve.tasklog][-3:] == ["qmconfig", "resize", "qmreboot"]
    assert lines.has("changing cores, memory")
    assert lines.has("cores, memory take effect at a restart; restarting")


def test_a_new_address_is_given_through_cloud_init_and_answered(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000)))
    apply_resizes(pve)
    vm = run(hv.create_vm(vm_request("coop-web", 10000, address="127.0.10.99")))
    assert (vm.address, vm.restarted) == ("127.0.10.99", True)
    cfg = api.nodes("pve1").qemu(10000).config.get()
    assert cfg["ipconfig0"] == "ip=127.0.10.99/24,gw=127.0.10.1"


def test_growing_only_the_disk_needs_no_restart(pve: FakePve, hv: ProxmoxClient) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000, disk_gib=20)))
    apply_resizes(pve)
    vm = run(hv.reconfigure_vm(vm_request("coop-web", 10000, disk_gib=30)))
    assert vm.restarted is False and vm.disk_gib == 30
    assert [t["type"] for t in pve.tasklog][-1] == "resize"


def test_a_disk_never_shrinks(pve: FakePve, hv: ProxmoxClient) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000, cores=2, disk_gib=20)))
    apply_resizes(pve)
    before = len(pve.requests)
    with pytest.raises(ProxmoxError) as err:
        run(hv.reconfigure_vm(vm_request("coop-web", 10000, cores=8, disk_gib=10)))
    assert err.value.reason == "refused"
    assert "disk scsi0 is 20 GiB and cannot shrink to 10 GiB" in str(err.value)
    assert not [m for m, _, _ in pve.requests[before:] if m != "GET"]  # nothing changed
    assert str(pve.vm(10000).config["cores"]) == "2"


def test_a_template_disk_larger_than_asked_is_refused_before_cloning(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    with pytest.raises(ProxmoxError, match="disk scsi0 is 8 GiB and cannot shrink to 4 GiB"):
        run(hv.create_vm(vm_request("coop-web", 10000, disk_gib=4)))
    assert mutations(pve) == [] and vmids(pve) == {9000}


@pytest.mark.fakepve(time_scale=0.01)
def test_destroy_shuts_down_deletes_with_disks_and_confirms(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000)))
    pve.vm(10000).shutdown_secs = 20  # 0.2 s: the client has to wait for the shutdown
    lines = Lines()
    run(hv.destroy_vm(10000, "pve1", lines))
    assert pve.vm(10000) is None
    assert not [g for g in api.cluster.resources.get(type="vm") if g["vmid"] == 10000]
    disks = api.nodes("pve1").storage("local-lvm").content.get()
    assert not [d for d in disks if d.get("vmid") == 10000]
    assert [t["type"] for t in pve.tasklog][-2:] == ["qmshutdown", "qmdestroy"]
    deleted = [p for m, p in mutations(pve) if m == "DELETE"]
    assert deleted == ["/api2/json/nodes/pve1/qemu/10000"]
    assert [b for m, _, b in pve.requests if m == "DELETE"] == [b""]  # purge: in the query
    assert lines.has("gone")
    run(hv.destroy_vm(10000, "pve1", lines))
    assert lines.lines[-1] == "destroy VM 10000 on node pve1: already gone"


@pytest.mark.fakepve(time_scale=0.01)
def test_stop_forces_a_guest_that_ignores_the_shutdown(pve: FakePve, fakepve_cafile: str) -> None:
    hv = hypervisor(pve, fakepve_cafile, shutdown_timeout=30)
    fedi_vm(pve, 10010, status="running", config={"tags": "fedi-tui;fedi-tui.coop-web"})
    pve.vm(10010).acpi = False  # the guest ignores ACPI: the shutdown runs into its timeout
    run(hv.stop_vm(10010, "pve1"))
    assert pve.vm(10010).status == "stopped"
    shutdown = [t for t in pve.tasklog if t["type"] == "qmshutdown"]
    assert [t["exitstatus"] for t in shutdown] == ["OK"]
    assert "VM still running - terminating now with SIGTERM" in shutdown[0]["log"]
    stop = [b for m, p, b in pve.requests if p.endswith("/status/shutdown")]
    assert stop == [b"timeout=30&forceStop=1"]


def test_only_fedi_tuis_guests_are_touched(pve: FakePve, hv: ProxmoxClient) -> None:
    fedi_vm(pve, 10011, config={"tags": "prod"})  # in the range, not tagged
    fedi_vm(pve, 555, config={"tags": "fedi-tui;fedi-tui.coop-web"})  # tagged, outside
    for vmid in (10011, 555):
        for action in (hv.destroy_vm(vmid, "pve1"), hv.stop_vm(vmid, "pve1")):
            with pytest.raises(ProxmoxError) as err:
                run(action)
            assert err.value.reason == "refused"
            assert "was not created by fedi-tui" in str(err.value)
            assert "needs VMID in 10000-19999 and the tag 'fedi-tui'" in str(err.value)
    with pytest.raises(ProxmoxError) as err:  # the tagged one outside is not its VM
        run(hv.reconfigure_vm(vm_request("coop-web", 10000)))
    assert err.value.reason == "missing"
    assert mutations(pve) == []


def test_list_and_find_see_only_fedi_tuis_vms(pve: FakePve, hv: ProxmoxClient) -> None:
    fedi_vm(pve, 10001, config={"tags": "fedi-tui;fedi-tui.coop-web"}, status="running")
    fedi_vm(pve, 10002, node="pve2", config={"tags": "fedi-tui"})  # no machine tag: half-made
    fedi_vm(pve, 10003, config={"tags": "other"})
    fedi_vm(pve, 556, config={"tags": "fedi-tui;fedi-tui.coop-db"})
    seen = run(hv.list_vms())
    assert [(v.vmid, v.node, v.machine, v.running) for v in seen] == [
        (10001, "pve1", "coop-web", True),
        (10002, "pve2", None, False),
    ]
    assert seen[0].cores == 2 and seen[0].memory_gib == 2.0 and seen[0].disk_gib == 20.0
    found = run(hv.find_vm("coop-web"))
    assert found is not None and found.vmid == 10001
    assert run(hv.find_vm("coop-db")) is None


def test_two_vms_with_one_machine_tag_are_refused(pve: FakePve, hv: ProxmoxClient) -> None:
    for vmid in (10001, 10002):
        fedi_vm(pve, vmid, config={"tags": "fedi-tui;fedi-tui.coop-web"})
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10001)))
    assert "VMs 10001, 10002 all carry its tag fedi-tui.coop-web" in str(err.value)
    assert mutations(pve) == []


# --- the guest agent ------------------------------------------------------------------


def interfaces(*addresses: str) -> list[dict[str, Any]]:
    lo = {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}
    return [
        {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [lo]},
        {
            "name": "eth0",
            "hardware-address": "bc:24:11:00:00:02",
            "ip-addresses": [
                {"ip-address": a, "ip-address-type": "ipv4", "prefix": 24} for a in addresses
            ],
        },
    ]


def test_an_agent_address_outside_the_network_is_never_used(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000)))
    vm = pve.vm(10000)
    vm.agent = {"files": {HOST_KEY_FILE: HOST_KEY + " root@coop-web\n"}}  # fakepve's addresses
    lines = Lines()
    seen = run(hv.guest(10000, "pve1", on_line=lines))
    assert [command for command, _ in vm.agent_requests] == ["network-get-interfaces", "file-read"]
    assert seen.address == "127.0.10.10"  # what cloud-init was given, not the agent's 192.0.2.10
    assert seen.host_key == HOST_KEY
    assert lines.has("it reports 192.0.2.10, outside 127.0.10.0/24")
    vm.agent["interfaces"] = interfaces("192.0.2.10", "127.0.10.77")
    assert run(hv.guest(10000, "pve1")).address == "127.0.10.77"  # inside: the agent's word
    vm.agent["interfaces"] = interfaces("127.0.10.77", "127.0.10.10")
    assert run(hv.guest(10000, "pve1")).address == "127.0.10.10"  # the configured one first


def test_create_reads_the_agent_when_the_template_enables_it(
    pve: FakePve, fakepve_cafile: str
) -> None:
    """The engine pins the host key create_vm answers with: with the agent on in the
    template, create waits for it (here it comes up when the start task ends)."""
    pve.vm(9000).config["agent"] = "enabled=1,fstrim_cloned_disks=1"
    hv = hypervisor(pve, fakepve_cafile, agent_wait=5)
    lines = Lines()

    def boot() -> None:
        pve.vm(10000).agent = {
            "interfaces": interfaces("192.0.2.10", "127.0.10.10"),
            "files": {HOST_KEY_FILE: HOST_KEY + " root@coop-web\n"},
        }

    lines.when("qmstart: TASK OK", boot)
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert (vm.address, vm.host_key) == ("127.0.10.10", HOST_KEY)
    assert lines.has("waiting up to 5 s for the guest agent")


def test_create_goes_on_without_a_host_key_when_the_agent_stays_silent(
    pve: FakePve, fakepve_cafile: str
) -> None:
    pve.vm(9000).config["agent"] = "1"
    hv = hypervisor(pve, fakepve_cafile, agent_wait=0.3)
    lines = Lines()
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert (vm.vmid, vm.running, vm.address, vm.host_key) == (10000, True, "127.0.10.10", None)
    assert lines.has("QEMU guest agent is not running")


def test_without_an_agent_there_is_no_host_key_and_the_configured_address(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000)))
    lines = Lines()
    seen = run(hv.guest(10000, "pve1", wait=0.2, on_line=lines))
    assert (seen.address, seen.host_key, seen.running) == ("127.0.10.10", None, True)
    assert lines.has("QEMU guest agent is not running")


def test_a_host_key_that_is_not_one_is_not_pinned(pve: FakePve, hv: ProxmoxClient) -> None:
    run(hv.create_vm(vm_request("coop-web", 10000)))
    mismatched = HOST_KEY.replace("ssh-ed25519", "ecdsa-sha2-nistp256")  # type ≠ blob's type
    for content in ("", "not a key\n", mismatched + "\n"):
        pve.vm(10000).agent = {
            "interfaces": interfaces("127.0.10.10"),
            "files": {HOST_KEY_FILE: content},
        }
        assert run(hv.guest(10000, "pve1")).host_key is None


def test_the_host_key_read_through_the_agent_lets_ssh_in_with_strict_checking(
    pve: FakePve, hv: ProxmoxClient, sshd_factory: SshdFactory, tmp_path: Any
) -> None:
    """The VM's address is a loopback test host: a real sshd there. Its host key, read
    through the agent, is pinned, and a strict SSH login succeeds — no trust on first use."""
    run(hv.create_vm(vm_request("coop-web", 10000, address="127.0.10.10")))
    host = sshd_factory(address="127.0.10.10", user=FAST_USER)
    pve.vm(10000).agent = {
        "interfaces": interfaces("192.0.2.10", "127.0.10.10"),
        "files": {HOST_KEY_FILE: host.host_public_key_file.read_text()},
    }
    seen = run(hv.guest(10000, "pve1", wait=5))
    assert seen.address == host.address and seen.host_key == host.host_public_key
    known = tmp_path / "known_hosts"
    known.write_text(f"[{seen.address}]:{host.port} {seen.host_key}\n")

    async def login() -> str:
        async with asyncssh.connect(
            seen.address,
            port=host.port,
            username=host.user,
            client_keys=[str(host.client_key)],
            known_hosts=str(known),
            config=None,
            agent_path=None,
        ) as conn:
            done = await conn.run("echo ready", check=True)
            return str(done.stdout).strip()

    assert run(login()) == "ready"
