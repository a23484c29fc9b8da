"""The Hypervisor port on Proxmox VE: create, bring up to date, look at, find, stop and destroy
the VMs of fedi-tui's machines.

**Finding a machine's VM.** Every VM carries two tags: ``fedi-tui`` and
``fedi-tui.<machine>``. A re-run finds the machine's VM by them (inside the runtime's
VMID range only), so creating twice makes one VM, and a change of size reconfigures it.

**A failure never leaves an untracked VM.** The clone is tagged by the first change
after it. If a later step fails, the error (a :class:`ProxmoxError` with ``vm_left``)
names the VMID, and the VM, tagged, is found and finished by the next run. If the
tagging itself fails, the clone is deleted again (it carries a one-time mark in its
description that proves this call made it); only when even that fails does the error
say to remove it by hand, naming the VMID and the command.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from fedi_tui.adapters.proxmox_config import (
    GIB,
    address_of,
    agent_enabled,
    boot_disk,
    machine_of,
    machine_tag,
    owns,
    vm_settings,
)
from fedi_tui.adapters.proxmox_errors import ProxmoxError
from fedi_tui.adapters.proxmox_reconcile import ProxmoxReconcile
from fedi_tui.adapters.proxmox_session import Progress, with_sink
from fedi_tui.core.deploy.ports import LineSink, ObservedVm, VmRequest
from fedi_tui.core.text import visible_line

__all__ = ["ProxmoxMachines"]


class ProxmoxMachines(ProxmoxReconcile):
    """fedi-tui's VMs on one cluster, as the apply engine sees them (the Hypervisor port)."""

    # --- helpers -----------------------------------------------------------------

    def _check(self, request: VmRequest, what: str) -> None:
        try:
            machine_tag(request.machine)
        except ValueError:
            raise self._fail(
                f"{what}: the machine name cannot be a Proxmox tag (lower-case letters, digits, "
                "'-', '_' and '.' only)",
                "refused",
                request.node,
            ) from None
        try:
            inside = ipaddress.ip_address(request.address) in ipaddress.ip_network(
                self.spec.network.cidr
            )
        except ValueError:
            inside = False
        if not inside:
            raise self._fail(
                f"{what}: address {visible_line(request.address)} is not inside "
                f"runtimes.{self.name}.network.cidr ({self.spec.network.cidr})",
                "refused",
                request.node,
            )

    def _observed(
        self,
        guest: Mapping[str, Any],
        *,
        address: str | None = None,
        host_key: str | None = None,
        created: bool = False,
        restarted: bool = False,
        running: bool | None = None,
    ) -> ObservedVm:
        def gib(key: str) -> float | None:
            try:
                return round(int(guest[key]) / GIB, 2) if guest.get(key) is not None else None
            except (TypeError, ValueError):
                return None

        try:
            cores = int(guest["maxcpu"]) if guest.get("maxcpu") is not None else None
        except (TypeError, ValueError):
            cores = None
        return ObservedVm(
            vmid=int(guest["vmid"]),
            node=str(guest.get("node")),
            running=guest.get("status") == "running" if running is None else running,
            address=address,
            host_key=host_key,
            machine=machine_of(guest.get("tags")),
            cores=cores,
            memory_gib=gib("maxmem"),
            disk_gib=gib("maxdisk"),
            created=created,
            restarted=restarted,
        )

    def _ours(self, guests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return sorted(
            (g for g in guests if g.get("type") == "qemu" and owns(self.spec, g)),
            key=lambda g: int(g["vmid"]),
        )

    def _find(self, guests: Sequence[Mapping[str, Any]], machine: str) -> dict[str, Any] | None:
        mine = [dict(g) for g in self._ours(guests) if machine_of(g.get("tags")) == machine]
        if len(mine) > 1:
            ids = ", ".join(str(g["vmid"]) for g in mine)
            raise self._fail(
                f"machine {machine}: VMs {ids} all carry its tag {machine_tag(machine)}, so "
                "fedi-tui cannot tell which one is the machine; remove the extra ones (or their "
                "tag) and run again",
                "refused",
            )
        return mine[0] if mine else None

    # --- the port -----------------------------------------------------------------

    async def list_vms(self) -> list[ObservedVm]:
        """Every VM of fedi-tui on this cluster (its tag, inside the VMID range), by VMID."""
        return [self._observed(g) for g in self._ours(await self.guests())]

    async def find_vm(self, machine: str) -> ObservedVm | None:
        found = self._find(await self.guests(), machine)
        return self._observed(found) if found is not None else None

    @with_sink
    async def create_vm(self, request: VmRequest, on_line: LineSink | None = None) -> ObservedVm:
        """Clone, configure, resize and start; a VM found by its tags is only brought up to
        date. The VMID used is in the answer (the proposed one, or the next free one)."""
        say = self._say(on_line)
        what = f"create VM {request.machine} on node {request.node}"
        self._check(request, what)
        guests, nodes = await self._resources()
        found = self._find(guests, request.machine)
        if found is not None:
            say(
                f"{what}: VM {found['vmid']} on node {visible_line(str(found.get('node')))} is "
                "there from an earlier run; bringing it up to date"
            )
            return await self._reconcile(found, request, say)
        self._node_online(request.node, nodes, what)
        source, template = await self._template_node(guests)
        self._check_disk(request.node, self.spec.template, request.disk_gib, template, what)
        vmid, mark = await self._clone(
            machine=request.machine,
            node=request.node,
            proposed=request.vmid,
            source=source,
            guests=guests,
            reserved=self._reserved,
            description=self.description(request.machine),
            say=say,
        )
        try:
            return await self._finish(vmid, request, mark, say)
        finally:
            self._reserved.discard(vmid)

    async def _finish(self, vmid: int, request: VmRequest, mark: str, say: Progress) -> ObservedVm:
        """Configure, grow and start a fresh clone (its own config read back: the clone has
        its own MAC address, which is kept)."""
        node = request.node
        what = f"create VM {vmid} ({request.machine}) on node {node}"
        tagged = False
        try:
            config = await self._config(node, vmid, what)
            settings = vm_settings(
                self.spec,
                config,
                cores=request.cores,
                memory_gib=request.memory_gib,
                address=request.address,
                ssh_keys=self._ssh_keys(),
                machine=request.machine,
                description=self.description(request.machine),
            )
            await self._configure(node, vmid, settings, what, say)
            tagged = True
            await self._grow_disk(node, vmid, request.disk_gib, config, what, say)
            await self._start(node, vmid, "stopped", what, say)
            address, host_key = request.address, None
            if agent_enabled(config):  # the template has the guest agent: let it tell
                say(f"{what}: waiting up to {self.agent_wait:g} s for the guest agent")
                seen, host_key = await self._agent_facts(
                    node, vmid, request.address, self.agent_wait, say
                )
                address = seen or request.address
        except ProxmoxError as exc:
            raise await self._failed_create(
                exc, vmid, node, request.machine, mark, tagged, say
            ) from None
        disk = boot_disk(config)
        return ObservedVm(
            vmid=vmid,
            node=node,
            running=True,
            address=address,
            host_key=host_key,
            machine=request.machine,
            cores=request.cores,
            memory_gib=float(request.memory_gib),
            disk_gib=max(float(request.disk_gib), (disk[1] if disk else 0) / GIB),
            created=True,
        )

    async def _failed_create(
        self,
        exc: ProxmoxError,
        vmid: int,
        node: str,
        machine: str,
        mark: str,
        tagged: bool,
        say: Progress,
    ) -> ProxmoxError:
        """The error to raise when a step after the clone failed, after tidying up."""
        if not tagged:  # the change that tags it may have been made, its answer lost
            with contextlib.suppress(ProxmoxError):
                listed = await self._listed(vmid)
                tagged = listed is not None and owns(self.spec, listed)
        if tagged:
            return ProxmoxError(
                f"{exc}; VM {vmid} stays on node {node}, tagged for machine {machine}: the "
                "next apply finishes it (or undeploy removes it)",
                reason=exc.reason,
                node=node,
                vmid=vmid,
                vm_left=True,
            )
        if await self._remove_clone(vmid, mark, say):
            return ProxmoxError(
                f"{exc}; the half-made VM {vmid} was deleted again",
                reason=exc.reason,
                node=node,
                vmid=vmid,
            )
        return ProxmoxError(
            f"{exc}; the half-made VM {vmid} on node {node} is not tagged and could not be "
            f"deleted: remove it by hand (`qm destroy {vmid} --purge` on node {node})",
            reason=exc.reason,
            node=node,
            vmid=vmid,
        )

    @with_sink
    async def reconfigure_vm(
        self, request: VmRequest, on_line: LineSink | None = None
    ) -> ObservedVm:
        """Change only what differs, grow the disk (never shrink it), and restart only when
        Proxmox keeps changes pending until a restart. A stopped VM is started."""
        say = self._say(on_line)
        what = f"update VM {request.machine}"
        self._check(request, what)
        found = self._find(await self.guests(), request.machine)
        if found is None:
            raise self._fail(
                f"{what}: no VM carries the tags fedi-tui and {machine_tag(request.machine)} "
                f"inside runtimes.{self.name}.vmids ({self.spec.vmids}); plan again with --live "
                "to see what is there",
                "missing",
                request.node,
            )
        return await self._reconcile(found, request, say)

    @with_sink
    async def guest(
        self, vmid: int, node: str, *, wait: float = 0.0, on_line: LineSink | None = None
    ) -> ObservedVm:
        """The VM now; when it runs, its guest agent is asked (for up to *wait* seconds)
        for addresses inside the runtime's network and the SSH host key."""
        say = self._say(on_line)
        what = f"look at VM {vmid}"
        found = await self._need(vmid, what, node, say)
        node = str(found.get("node"))
        config = await self._config(node, vmid, what)
        configured = address_of(config.get("ipconfig0"))
        if configured is not None and not self._inside(configured):
            say(
                f"{what}: its ipconfig0 address {visible_line(configured)} is outside "
                f"{self.spec.network.cidr}: not used"
            )
            configured = None
        address, host_key = configured, None
        if found.get("status") == "running":
            seen, host_key = await self._agent_facts(node, vmid, configured, wait, say)
            address = seen or configured
        return self._observed(found, address=address, host_key=host_key)

    @with_sink
    async def stop_vm(self, vmid: int, node: str, on_line: LineSink | None = None) -> None:
        """Shut the VM down (ACPI) for ``shutdown_timeout`` seconds, then stop it hard."""
        say = self._say(on_line)
        what = f"stop VM {vmid} on node {node}"
        found = await self._need(vmid, what, node, say)
        await self._stop(
            str(found["node"]), vmid, found.get("status"), what, self.shutdown_timeout, say
        )

    @with_sink
    async def destroy_vm(self, vmid: int, node: str, on_line: LineSink | None = None) -> None:
        """Stop, delete with its disks, and confirm it is gone; done if it is gone already."""
        say = self._say(on_line)
        what = f"destroy VM {vmid} on node {node}"
        found = await self._owned(vmid, what, node, say)
        if found is None:
            say(f"{what}: already gone")
            return
        node = str(found["node"])
        if found.get("status") != "stopped":
            await self._stop(
                node,
                vmid,
                found.get("status"),
                f"{what}: stop it first",
                self.shutdown_timeout,
                say,
            )
        await self._delete(node, vmid, what, say)

    async def close(self) -> None:
        self.close_now()
