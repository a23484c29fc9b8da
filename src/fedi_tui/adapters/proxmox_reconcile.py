"""Bringing an existing VM of fedi-tui's up to date: change only what differs, grow the
disk (never shrink it), restart only when Proxmox keeps changes pending until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedi_tui.adapters.proxmox_agent import ProxmoxAgent
from fedi_tui.adapters.proxmox_config import (
    GIB,
    boot_disk,
    changed_settings,
    vm_settings,
)
from fedi_tui.adapters.proxmox_errors import ProxmoxError
from fedi_tui.adapters.proxmox_session import SINK, Progress
from fedi_tui.core.deploy.ports import LineSink, ObservedVm, VmRequest
from fedi_tui.core.text import visible_line

__all__ = ["ProxmoxReconcile"]


class ProxmoxReconcile(ProxmoxAgent):
    """What a VM of fedi-tui's should look like, and making it so."""

    def _say(self, on_line: LineSink | None) -> Progress:
        """The sink for this port call's messages (use in methods decorated ``with_sink``)."""
        say: Progress = (
            self.on_progress if on_line is None else (lambda text: on_line("stdout", text))
        )
        SINK.set(say)
        return say

    def description(self, machine: str) -> str:
        """The VM description: managed by fedi-tui, which machine, from which state file."""
        source = visible_line(str(self.state_file)) if self.state_file else "its state file"
        return (
            f"Managed by fedi-tui: machine {machine} of runtime {self.name}, from {source}. "
            "Change that file rather than this VM: the next apply undoes changes made here."
        )

    def _ssh_keys(self) -> list[str]:
        keys = [self.login_key] if self.login_key else []
        return keys + [k for k in self.spec.ssh.authorized_keys if k not in keys]

    async def _current(self, node: str, vmid: int, what: str) -> tuple[dict[str, Any], list[str]]:
        """The config as the VM will run it next (pending values applied), and the keys
        Proxmox keeps pending until a restart."""
        rows = await self._call(
            what,
            lambda api: api.nodes(node).qemu(vmid).pending.get(),
            node=node,
            vmid=vmid,
            expect="list",
        )
        config: dict[str, Any] = {}
        waiting: list[str] = []
        for row in rows or []:
            key = str(row.get("key"))
            if row.get("delete"):
                waiting.append(key)
                continue
            if "pending" in row:
                waiting.append(key)
                config[key] = row["pending"]
            elif "value" in row:
                config[key] = row["value"]
        return config, sorted(waiting)

    async def _reconcile(
        self, found: Mapping[str, Any], request: VmRequest, say: Progress
    ) -> ObservedVm:
        vmid, node = int(found["vmid"]), str(found.get("node"))
        what = f"update VM {vmid} ({request.machine}) on node {node}"
        if found.get("lock") == "clone":
            found = await self._settled(vmid, what, say)
        current, _ = await self._current(node, vmid, what)
        self._check_disk(node, vmid, request.disk_gib, current, what)
        wanted = vm_settings(
            self.spec,
            current,
            cores=request.cores,
            memory_gib=request.memory_gib,
            address=request.address,
            ssh_keys=self._ssh_keys(),
            machine=request.machine,
            description=self.description(request.machine),
        )
        changes = changed_settings(wanted, current)
        if changes:
            say(f"{what}: changing {', '.join(sorted(changes))}")
            await self._configure(node, vmid, changes, what, say)
        grown = await self._grow_disk(node, vmid, request.disk_gib, current, what, say)
        restarted = False
        if found.get("status") == "running":
            _, waiting = await self._current(node, vmid, what)
            if waiting:
                say(f"{what}: {', '.join(waiting)} take effect at a restart; restarting")
                await self._restart(node, vmid, what, say)
                restarted = True
        else:
            await self._start(node, vmid, found.get("status"), what, say)
        if not (changes or grown or restarted):
            say(f"{what}: nothing to change")
        disk = boot_disk(current)
        return ObservedVm(
            vmid=vmid,
            node=node,
            running=True,
            address=request.address,  # what ipconfig0 says now (it was set if it differed)
            machine=request.machine,
            cores=request.cores,
            memory_gib=float(request.memory_gib),
            disk_gib=max(float(request.disk_gib), (disk[1] if disk else 0) / GIB),
            restarted=restarted,
        )

    async def _restart(self, node: str, vmid: int, what: str, say: Progress) -> None:
        """Reboot so pending changes apply; if the guest does not go down, stop and start."""
        try:
            await self._power(
                node, vmid, "reboot", f"{what}: restart", say, timeout=self.shutdown_timeout
            )
        except ProxmoxError as exc:
            if exc.reason in ("auth", "permission", "offline", "quorum", "refused"):
                raise
            say(f"{what}: the reboot failed ({exc.reason}); stopping and starting it")
            await self._power(node, vmid, "stop", f"{what}: stop hard", say)
            await self._power(node, vmid, "start", f"{what}: start", say)
