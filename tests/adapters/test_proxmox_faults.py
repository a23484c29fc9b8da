"""What real clusters do to a create, change or destroy — on fakepve, TLS verified.

Each test asserts the outcome, the message where there is one, and that no untracked VM
remains: every VM the test did not put there is in the range and tagged fedi-tui and
with its machine tag, so the next run finds it (or there is none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]
from proxmoxer import ProxmoxAPI

from fedi_tui.adapters.proxmox import ProxmoxClient, ProxmoxError
from fedi_tui.adapters.proxmox_config import GIB
from tests.adapters.proxmox_fixtures import (
    TOKEN,
    Lines,
    apply_resizes,
    assert_no_untracked,
    fedi_vm,
    hypervisor,
    pve,
    run,
    runtime,
    vm_request,
    vmids,
)

pytestmark = pytest.mark.real

__all__ = ["pve"]  # fixture


@pytest.fixture
def api(pve: FakePve, fakepve_cafile: str) -> Any:
    return ProxmoxAPI(
        "127.0.0.1",
        port=pve.port,
        user="root@pam",
        token_name="fedi",
        token_value=TOKEN,
        verify_ssl=fakepve_cafile,
    )


@pytest.fixture
def hv(pve: FakePve, fakepve_cafile: str) -> Iterator[ProxmoxClient]:
    client = hypervisor(pve, fakepve_cafile)
    yield client
    client.close_now()


def tagged(machine: str) -> dict[str, str]:
    return {"tags": f"fedi-tui;fedi-tui.{machine}"}


async def until(condition: Callable[[], bool]) -> None:
    """Let the fake's task (running on this loop) get going."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never happened")


def posts(pve: FakePve, suffix: str) -> int:
    return len([p for m, p, _ in pve.requests if m == "POST" and p.endswith(suffix)])


# --- tasks that fail ---------------------------------------------------------------


def test_a_clone_task_that_fails_leaves_no_vm(pve: FakePve, hv: ProxmoxClient) -> None:
    before = vmids(pve)
    pve.storages["local-lvm"]["avail"] = 2 * GIB  # the 8 GiB template disk cannot be copied
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10004)))
    text = str(err.value)
    assert err.value.reason == "task" and err.value.vmid == 10004 and err.value.node == "pve1"
    assert err.value.vm_left is False
    assert (
        "create VM 10004 (coop-web) on node pve1: clone template 9000 failed: the Proxmox" in text
    )
    assert "No space left on device" in text and "free space on storage 'local-lvm'" in text
    assert vmids(pve) == before
    assert_no_untracked(pve, before)


def test_a_start_task_that_fails_leaves_the_vm_tagged_and_the_next_run_finishes_it(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/10000/status/start", error="qemu_exited_code", times=1)
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000)))
    text = str(err.value)
    assert err.value.reason == "task" and err.value.vm_left and err.value.vmid == 10000
    assert "ended with “QEMU exited with code 1”" in text
    assert (
        "VM 10000 stays on node pve1, tagged for machine coop-web: the next apply finishes it"
        in (text)
    )
    assert_no_untracked(pve, before)
    apply_resizes(pve)
    again = run(hv.create_vm(vm_request("coop-web", 10000)))
    assert (again.vmid, again.created, again.running) == (10000, False, True)
    assert pve.vm(10000).status == "running"
    assert [t["type"] for t in pve.tasklog].count("qmclone") == 1


def test_a_500_on_start_is_retried_and_succeeds(pve: FakePve, hv: ProxmoxClient) -> None:
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/10000/status/start", 500, "temporary failure", times=1)
    lines = Lines()
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert vm.running and pve.vm(10000).status == "running"
    assert posts(pve, "/status/start") == 2
    assert lines.has("Proxmox said 500 temporary failure; trying again in")
    assert_no_untracked(pve, before)


def test_a_clone_refused_by_a_5xx_is_sent_again_once_it_is_clear_nothing_was_made(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/9000/clone", 503, "Service Unavailable", times=1)
    vm = run(hv.create_vm(vm_request("coop-web", 10000)))
    assert vm.vmid == 10000 and posts(pve, "/qemu/9000/clone") == 2
    assert_no_untracked(pve, before)


# --- locks ---------------------------------------------------------------------------


def test_a_config_lock_that_clears_after_a_while(pve: FakePve, hv: ProxmoxClient) -> None:
    fedi_vm(pve, 10050, config=tagged("coop-web") | {"cores": 1, "memory": 4096})
    asyncio.run(pve.hold_config_lock(10050, None))  # another task holds it, until released
    lines = Lines()
    lines.when("trying again", lambda: pve.release_config_lock(10050))
    vm = run(hv.reconfigure_vm(vm_request("coop-web", 10050, cores=2), lines))
    assert vm.vmid == 10050 and str(pve.vm(10050).config["cores"]) == "2"
    assert lines.has("task ended with can't lock file '/var/lock/qemu-server/lock-10050.conf'")


def test_a_config_lock_that_stays_is_a_clear_error(pve: FakePve, fakepve_cafile: str) -> None:
    hv = hypervisor(pve, fakepve_cafile, lock_wait=0.3)
    fedi_vm(pve, 10050, config=tagged("coop-web"))
    asyncio.run(pve.hold_config_lock(10050, None))
    with pytest.raises(ProxmoxError) as err:
        run(hv.reconfigure_vm(vm_request("coop-web", 10050, cores=4)))
    text = str(err.value)
    assert err.value.reason == "locked" and err.value.vmid == 10050
    assert "lock-10050.conf' - got timeout" in text and "qm unlock 10050" in text
    assert "(tried " in text
    assert str(pve.vm(10050).config["cores"]) == "2"


@pytest.mark.fakepve(time_scale=0.01)
def test_a_vm_locked_by_a_backup_is_destroyed_once_the_backup_ends(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    fedi_vm(pve, 10060, config=tagged("coop-web"))
    lines = Lines()

    async def main() -> None:
        await pve.backup(10060, secs=30)  # 0.3 s at this time scale, on this loop
        await until(lambda: pve.vm(10060).lock == "backup")
        await hv.destroy_vm(10060, "pve1", lines)

    run(main())
    assert pve.vm(10060) is None
    assert lines.has("VM is locked (backup); trying again in")
    assert [t["exitstatus"] for t in pve.tasklog if t["type"] == "vzdump"] == ["OK"]


def test_a_vm_left_locked_by_a_snapshot_is_a_clear_error(pve: FakePve, fakepve_cafile: str) -> None:
    hv = hypervisor(pve, fakepve_cafile, lock_wait=0.3)
    fedi_vm(pve, 10060, config=tagged("coop-web"))
    pve.snapshot_lock(10060)
    with pytest.raises(ProxmoxError) as err:
        run(hv.destroy_vm(10060, "pve1"))
    assert err.value.reason == "locked"
    assert "VM is locked (snapshot)" in str(err.value) and "qm unlock 10060" in str(err.value)
    assert pve.vm(10060) is not None


@pytest.mark.fakepve(time_scale=0.01)
def test_a_template_under_backup_is_cloned_once_the_backup_ends(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    before = vmids(pve)
    lines = Lines()

    async def main() -> None:
        await pve.backup(9000, secs=30)
        await until(lambda: pve.vm(9000).lock == "backup")
        await hv.create_vm(vm_request("coop-web", 10000), lines)

    run(main())
    assert lines.has("VM is locked (backup); trying again in")
    assert pve.vm(10000) is not None and pve.vm(10000).status == "running"
    assert_no_untracked(pve, before)


# --- the token -----------------------------------------------------------------------


def test_a_bad_token_is_one_request_and_a_clear_error(
    pve: FakePve, hv: ProxmoxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDI_TEST_PVE_TOKEN", "not-the-token")
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000)))
    assert err.value.reason == "auth"
    assert str(err.value).startswith(f"runtime pve-a ({pve.url}): the API refused the token")
    assert len(pve.requests) == 1  # no retry storm
    assert vmids(pve) == {9000}


def test_a_token_revoked_midway_stops_at_the_next_request(pve: FakePve, hv: ProxmoxClient) -> None:
    before = vmids(pve)
    lines = Lines()
    seen: list[int] = []

    def revoke() -> None:
        del pve.apitokens["root@pam!fedi"]
        seen.append(len(pve.requests))

    lines.when("tags: done", revoke)  # the VM is tagged: then the token goes
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert err.value.reason == "auth" and err.value.vm_left and err.value.vmid == 10000
    assert "the API refused the token root@pam!fedi (401" in str(err.value)
    assert len(pve.requests) == seen[0] + 1  # one refused request, not a storm
    assert_no_untracked(pve, before)


# --- the cluster -----------------------------------------------------------------------


def test_a_node_that_is_offline_gets_nothing(pve: FakePve, hv: ProxmoxClient) -> None:
    pve.set_node_offline("pve2")
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000, node="pve2")))
    assert err.value.reason == "offline"
    assert "node pve2 is offline: nothing was created" in str(err.value)
    assert "plan again with --live so the machine is placed elsewhere" in str(err.value)
    assert [m for m, _, _ in pve.requests if m != "GET"] == [] and vmids(pve) == {9000}


def test_the_template_node_offline_is_named(pve: FakePve, hv: ProxmoxClient) -> None:
    pve.storages["local-lvm"]["shared"] = 1
    pve.set_node_offline("pve1")
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000, node="pve2")))
    assert err.value.reason == "offline" and "node pve1 is offline" in str(err.value)
    assert vmids(pve) == {9000}


def test_a_vm_on_an_offline_node_cannot_be_destroyed_and_says_so(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    fedi_vm(pve, 10030, "pve2", config=tagged("coop-web"), status="running")
    pve.set_node_offline("pve2")
    with pytest.raises(ProxmoxError) as err:
        run(hv.destroy_vm(10030, "pve2"))
    assert err.value.reason == "offline" and "No route to host" in str(err.value)
    assert pve.vm(10030) is not None


def test_lost_quorum_fails_at_once_and_makes_nothing(pve: FakePve, hv: ProxmoxClient) -> None:
    pve.lose_quorum()
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000)))
    assert err.value.reason == "quorum"
    assert "cluster not ready - no quorum?" in str(err.value) and "pvecm status" in str(err.value)
    assert posts(pve, "/clone") == 1  # not retried
    assert vmids(pve) == {9000}
    assert run(hv.list_vms()) == []  # reads still work


def test_a_flaky_network_does_not_break_a_create(pve: FakePve, hv: ProxmoxClient) -> None:
    before = vmids(pve)
    pve.flaky_network(drop_rate=0.3)
    pve._random.seed(7)  # fakepve seeds its dice only at start; this makes the drops repeat
    lines = Lines()
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert vm.vmid == 10000 and pve.vm(10000).status == "running"
    assert lines.has("the connection was dropped; trying again")
    assert [v.vmid for v in pve.vms if "fedi-tui" in str(v.config.get("tags"))] == [10000]
    assert_no_untracked(pve, before)


def test_a_clone_whose_answer_was_lost_is_not_made_twice(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    """The clone request reached Proxmox and was carried out, but fedi-tui got an error
    back. fakepve cannot lose an answer after doing the work, so the test does the work
    itself: it sends the very request fedi-tui sent (from fakepve's log) once more. The
    retry then finds that clone by the mark in its description and does not clone again."""
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/9000/clone", 502, "Bad Gateway", times=1)
    lines = Lines()

    def carry_out_the_first_request() -> None:
        body = next(b for m, p, b in pve.requests if p.endswith("/qemu/9000/clone"))
        api.nodes("pve1").qemu(9000).clone.post(**dict(parse_qsl(body.decode())))

    lines.when("Proxmox said 502 Bad Gateway; trying again", carry_out_the_first_request)
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert vm.vmid == 10000 and vm.running
    assert posts(pve, "/qemu/9000/clone") == 2  # fedi-tui's (failed) and the test's
    assert lines.has("the clone from the earlier attempt is there; waiting for it")
    assert [t["type"] for t in pve.tasklog].count("qmclone") == 1
    assert_no_untracked(pve, before)


def test_a_clone_that_cannot_be_followed_is_deleted_again(pve: FakePve, hv: ProxmoxClient) -> None:
    """The clone was made, but the network fails while fedi-tui follows its task: the
    clone (found by its one-time mark) is deleted once the network is back."""
    before = vmids(pve)
    lines = Lines()
    lines.when("clone template 9000: started", lambda: pve.flaky_network(drop_rate=1.0))
    lines.when(
        "list the guests: the connection was dropped", lambda: pve.flaky_network(drop_rate=0)
    )
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert err.value.reason == "connect" and not err.value.vm_left
    assert "read the task status: lost the connection" in str(err.value)
    assert "may be left" not in str(err.value)
    assert [t["type"] for t in pve.tasklog] == ["qmclone", "qmdestroy"]
    assert vmids(pve) == before


def test_a_tagging_whose_answers_were_lost_leaves_a_tracked_vm(
    pve: FakePve, hv: ProxmoxClient, api: Any
) -> None:
    """Every answer to the change that tags the clone is lost, but Proxmox made the
    change (the test carries out the request itself, from fakepve's log): the VM is
    tagged, so it is reported as left for the next run, not deleted or forgotten."""
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/10000/config", 502, "Bad Gateway", times=4)
    lines = Lines()

    def carry_out() -> None:  # past the injected failure, which fedi-tui keeps meeting
        body = next(
            b for m, p, b in pve.requests if m == "POST" and p.endswith("/qemu/10000/config")
        )
        rule = pve.failures.pop(("POST", "/nodes/pve1/qemu/10000/config"))
        api.nodes("pve1").qemu(10000).config.post(**dict(parse_qsl(body.decode())))
        pve.failures[("POST", "/nodes/pve1/qemu/10000/config")] = rule

    lines.when("Proxmox said 502 Bad Gateway; trying again", carry_out)
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert err.value.vm_left and err.value.vmid == 10000
    assert "tagged for machine coop-web: the next apply finishes it" in str(err.value)
    assert pve.vm(10000) is not None
    assert_no_untracked(pve, before)


def test_a_vmid_taken_between_the_look_and_the_clone_moves_on(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    before = vmids(pve)
    lines = Lines()
    # Another tool creates VM 10000 right after fedi-tui saw it free.
    lines.when("cloning template 9000", lambda: pve.add_vm(10000, "intruder", node="pve2"))
    vm = run(hv.create_vm(vm_request("coop-web", 10000), lines))
    assert vm.vmid == 10001
    assert lines.has("VMID 10000 was taken meanwhile (by someone else); next one")
    assert pve.vm(10000).name == "intruder" and "tags" not in pve.vm(10000).config
    assert_no_untracked(pve, before | {10000})


def test_a_clone_that_cannot_be_tagged_is_deleted_again(pve: FakePve, hv: ProxmoxClient) -> None:
    before = vmids(pve)
    pve.fail("POST", "/nodes/pve1/qemu/10000/config", 400, "Parameter verification failed.")
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10000)))
    assert err.value.vm_left is False
    assert "the half-made VM 10000 was deleted again" in str(err.value)
    assert vmids(pve) == before


def test_a_shared_storage_clone_lands_on_the_chosen_node(pve: FakePve, hv: ProxmoxClient) -> None:
    pve.storages["local-lvm"]["shared"] = 1
    vm = run(hv.create_vm(vm_request("coop-web", 10001, node="pve2")))
    assert (vm.node, pve.vm(10001).node) == ("pve2", "pve2")
    clone = [b for m, p, b in pve.requests if m == "POST" and p.endswith("/clone")]
    assert b"target=pve2" in clone[0] and b"full=1" in clone[0]


def test_a_local_storage_clone_to_another_node_says_why_not(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10001, node="pve2")))
    assert "can't clone to non-shared storage 'local-lvm'" in str(err.value)
    assert "a template on local storage clones only to its own node" in str(err.value)
    assert vmids(pve) == {9000}


def test_a_template_without_cloud_init_is_refused_before_cloning(
    pve: FakePve, hv: ProxmoxClient
) -> None:
    del pve.vm(9000).config["ide2"]
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10007)))
    assert "template 9000 (runtimes.pve-a.template) has no cloud-init drive" in str(err.value)
    assert "qm set 9000 --ide2 local-lvm:cloudinit" in str(err.value)
    assert pve.tasklog == [] and vmids(pve) == {9000}


def test_permission_denied_names_the_missing_privilege(pve: FakePve, fakepve_cafile: str) -> None:
    pve.apitokens["fedi@pve!tui"] = pve.apitokens["root@pam!fedi"]
    pve.grant("fedi@pve!tui", "/", "VM.Audit", "Sys.Audit", "Datastore.Audit")
    spec = runtime(pve.url, ca_file=fakepve_cafile, token_id="fedi@pve!tui")
    hv = hypervisor(pve, fakepve_cafile, spec=spec)
    with pytest.raises(ProxmoxError) as err:
        run(hv.create_vm(vm_request("coop-web", 10020)))
    text = str(err.value)
    assert err.value.reason == "permission"
    assert "permission denied for token fedi@pve!tui" in text
    assert "grant it what is missing (/vms/9000, VM.Clone)" in text  # the template's
    assert posts(pve, "/clone") == 1 and vmids(pve) == {9000}
