"""VM steps on a Proxmox runtime (through the Hypervisor port).

create-vm provisions and starts the VM, then waits until it answers SSH at its
address; its host key, when the guest agent could read it, is recorded and
pinned. A failure that leaves a half-made VM records its VMID, so the next plan
finishes or removes it: nothing fedi-tui created is left untracked.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.ports import VmRequest
from fedi_tui.core.deploy.recorded import MachineRecord, RecordedState
from fedi_tui.core.deploy.steps.base import (
    Observed,
    StepContext,
    StepFailed,
    Target,
    machine_lane,
)
from fedi_tui.core.errors import FediError

READY_INTERVAL = 2.0
AGENT_WAIT = 60.0
"""Seconds to wait for a VM's guest agent to answer (it starts with the VM's system)."""


def vm_request(m: Machine) -> VmRequest:
    if m.node is None or m.vmid is None or m.address is None:
        raise StepFailed(f"{m.name}: the plan placed it without node, VMID or address")
    return VmRequest(
        machine=m.name,
        node=m.node,
        vmid=m.vmid,
        cores=m.cores,
        memory_gib=m.memory_gib,
        disk_gib=m.disk_gib,
        address=m.address,
    )


class CreateVm:
    kinds: ClassVar[tuple[StepKind, ...]] = ("create-vm",)
    state: ClassVar[MachineState] = "provisioning"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        m = ctx.desired.machine(ctx.step.target)
        deploy = ctx.desired.deploy_settings(m.runtime)
        hypervisor = ctx.ports.hypervisors(m.runtime)
        ctx.phase(f"creating VM {m.vmid} on {m.node}", "provisioning")
        vm = await hypervisor.create_vm(vm_request(m), ctx.task_sink())
        if vm.host_key is None:  # an existing VM brought up to date: ask its guest agent
            ctx.phase(
                f"asking VM {vm.vmid}'s guest agent for its address and host key", "provisioning"
            )
            vm = await hypervisor.guest(vm.vmid, vm.node, wait=AGENT_WAIT)
        seen = {"vmid": vm.vmid, "node": vm.node, "address": vm.address or m.address}
        if vm.host_key:
            seen["host_key"] = vm.host_key
        ctx.phase(f"waiting for SSH at {seen['address']}", "provisioning")
        deadline = time.monotonic() + deploy.activate_timeout
        while True:
            try:
                shell = await ctx.fresh_shell(address=str(seen["address"]), host_key=vm.host_key)
            except FediError as exc:
                if time.monotonic() >= deadline:
                    raise StepFailed(
                        f"VM {vm.vmid} runs but did not answer SSH at {seen['address']} within "
                        f"{deploy.activate_timeout} s: {exc}"
                    ) from None
                await asyncio.sleep(READY_INTERVAL)
                continue
            await shell.close()
            break
        ctx.log(f"VM {vm.vmid} on {vm.node} answers SSH at {seen['address']}")
        return seen

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        m = desired.machine(step.target)
        old = recorded.machines.get(step.target)
        machines = dict(recorded.machines)
        machines[step.target] = MachineRecord(
            runtime=m.runtime,
            kind="proxmox",
            operators=m.operators,
            node=observed.get("node", m.node),
            vmid=observed.get("vmid", m.vmid if old is None else old.vmid),
            address=observed.get("address", m.address if old is None else old.address),
            cores=m.cores,
            memory_gib=m.memory_gib,
            disk_gib=max(m.disk_gib, old.disk_gib if old else 0),
            config_hash=old.config_hash if old else None,
            configuration=old.configuration if old else None,
            files=old.files if old else {},
            host_key=observed.get("host_key", old.host_key if old else None),
            ready=bool(observed.get("ready", True)),
        )
        return recorded.model_copy(update={"machines": machines})


class ResizeVm(CreateVm):
    kinds: ClassVar[tuple[StepKind, ...]] = ("resize-vm",)

    async def execute(self, ctx: StepContext) -> Observed:
        m = ctx.desired.machine(ctx.step.target)
        ctx.phase(f"resizing VM {m.vmid}", "provisioning")
        vm = await ctx.ports.hypervisors(m.runtime).reconfigure_vm(vm_request(m), ctx.task_sink())
        ctx.log(f"VM {vm.vmid}: {m.cores} cores, {m.memory_gib} GiB memory, {m.disk_gib} GiB disk")
        return {"vmid": vm.vmid, "node": vm.node}


class StopVm:
    kinds: ClassVar[tuple[StepKind, ...]] = ("stop-vm",)
    state: ClassVar[MachineState] = "removing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        rec = ctx.recorded.machines[ctx.step.target]
        if rec.vmid is None or rec.node is None:
            return {}
        ctx.phase(f"stopping VM {rec.vmid}", "removing")
        await ctx.ports.hypervisors(rec.runtime).stop_vm(rec.vmid, rec.node, ctx.task_sink())
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        return recorded


class DestroyVm(StopVm):
    kinds: ClassVar[tuple[StepKind, ...]] = ("destroy-vm",)

    async def execute(self, ctx: StepContext) -> Observed:
        rec = ctx.recorded.machines[ctx.step.target]
        if rec.vmid is not None and rec.node is not None:
            ctx.phase(f"destroying VM {rec.vmid}", "removing")
            await ctx.ports.hypervisors(rec.runtime).destroy_vm(rec.vmid, rec.node, ctx.task_sink())
        ctx.log(f"VM {rec.vmid} destroyed")
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        machines = dict(recorded.machines)
        machines.pop(step.target, None)
        return recorded.model_copy(update={"machines": machines})
