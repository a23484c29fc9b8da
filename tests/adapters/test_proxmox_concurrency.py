"""Twenty machines at once on one cluster: the mutation limit holds, VMIDs never collide.

Tasks take time here: the template and the VM storage are on Ceph, which fakepve makes
slow (every clone and start waits), at a non-zero time scale. How many changes ran at
once is read from fakepve's request log: a change holds its slot from its request until
its task is seen stopped, so the status polls of one task span an interval inside that
slot, and the most intervals open at one point of the log is a lower bound of the
changes that ran at once. A control run with a high limit shows the measure sees more.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]

from fedi_tui.adapters.proxmox import ProxmoxClient
from fedi_tui.core.deploy.ports import ObservedVm
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from tests.adapters.proxmox_fixtures import (
    TEMPLATE_DISK,
    assert_no_untracked,
    hypervisor,
    pve,
    run,
    runtime,
    vm_request,
    vmids,
)

pytestmark = pytest.mark.real

__all__ = ["pve"]  # fixture

_POLL = re.compile(r"/tasks/(UPID:[^/]+)/status$")


def on_ceph(pve: FakePve, fakepve_cafile: str, limit: int, slow: int = 20) -> ProxmoxRuntimeSpec:
    """Template and VM disks on a slow Ceph pool (*slow* PVE seconds per clone or start:
    0.2 s here by default)."""
    pve.add_ceph_storage("ceph-vm")
    pve.storages["ceph-vm"]["volumes"] = {
        "base-9000-disk-0": {"content": "images", "size": 8 << 30, "vmid": 9000, "format": "raw"}
    }
    pve.vm(9000).config["scsi0"] = TEMPLATE_DISK.replace("local-lvm:", "ceph-vm:")
    pve.ceph_slow(slow)
    data = runtime(pve.url, ca_file=fakepve_cafile).model_dump(mode="json", by_alias=True)
    return ProxmoxRuntimeSpec.model_validate(data | {"storage": "ceph-vm", "max_mutations": limit})


def most_at_once(requests: list[tuple[str, str, Any]]) -> int:
    """The most tasks whose status polls (first to last) overlap at one point of the log."""
    spans: dict[str, list[int]] = {}
    for index, (method, path, _) in enumerate(requests):
        found = _POLL.search(path)
        if method == "GET" and found:
            spans.setdefault(found.group(1), [index, index])[1] = index
    events = sorted(
        [(a, 1) for a, _ in spans.values()] + [(b, -1) for _, b in spans.values()],
        key=lambda e: (e[0], -e[1]),
    )
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def create_twenty(hv: ProxmoxClient) -> list[ObservedVm]:
    async def main() -> list[ObservedVm]:
        return list(
            await asyncio.gather(
                *(hv.create_vm(vm_request(f"op{n:02d}-web", 10000 + n)) for n in range(20))
            )
        )

    return run(main())


@pytest.mark.fakepve(time_scale=0.01)
def test_twenty_at_once_respect_the_mutation_limit(pve: FakePve, fakepve_cafile: str) -> None:
    before = vmids(pve)
    hv = hypervisor(pve, fakepve_cafile, spec=on_ceph(pve, fakepve_cafile, 4))
    made = create_twenty(hv)
    assert sorted(vm.vmid for vm in made) == list(range(10000, 10020))
    assert all(vm.running and vm.created for vm in made)
    assert len(pve.vms) == 21 and all(v.status == "running" for v in pve.vms if v.vmid != 9000)
    assert all(t["exitstatus"] == "OK" for t in pve.tasklog)
    at_once = most_at_once(pve.requests)
    assert 2 <= at_once <= 4, at_once  # concurrent, and never more than the limit
    assert_no_untracked(pve, before)


@pytest.mark.fakepve(time_scale=0.01)
def test_the_measure_sees_more_when_the_limit_is_high(pve: FakePve, fakepve_cafile: str) -> None:
    # Slower tasks than above: the creates overlap even if this machine is busy.
    hv = hypervisor(pve, fakepve_cafile, spec=on_ceph(pve, fakepve_cafile, 20, slow=50))
    create_twenty(hv)
    assert most_at_once(pve.requests) > 4


@pytest.mark.fakepve(time_scale=0.01)
def test_twenty_at_once_with_the_same_proposed_vmid_get_twenty_vmids(
    pve: FakePve, fakepve_cafile: str
) -> None:
    """A stale plan that proposes one VMID for all: each VM still gets its own."""
    hv = hypervisor(pve, fakepve_cafile)

    async def main() -> list[ObservedVm]:
        return list(
            await asyncio.gather(
                *(
                    hv.create_vm(vm_request(f"op{n:02d}-web", 10000, address=f"127.0.10.{20 + n}"))
                    for n in range(20)
                )
            )
        )

    made = run(main())
    assert sorted(vm.vmid for vm in made) == list(range(10000, 10020))
    assert len({vm.machine for vm in made}) == 20
