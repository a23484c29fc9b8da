"""VM lifecycle on Proxmox: clone from the template, configure, grow the disk, start, stop, delete.

Each method waits for the tasks it starts and checks their exit status; each
touches only fedi-tui's own VMs (see :mod:`fedi_tui.adapters.proxmox`), with one
exception: a clone this very call made and could not tag is removed again, after
checking the one-time mark the clone carries in its description.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from fedi_tui.adapters.proxmox_config import GIB, boot_disk, has_cloud_init
from fedi_tui.adapters.proxmox_errors import ProxmoxError
from fedi_tui.adapters.proxmox_session import Progress
from fedi_tui.adapters.proxmox_tasks import ProxmoxTasks
from fedi_tui.core.text import visible_line

__all__ = ["ProxmoxVms"]

_MAX_TAKEN = 16
"""VMIDs tried when others take them between our look and our clone."""


class ProxmoxVms(ProxmoxTasks):
    """The VM operations the Hypervisor port is built from."""

    # --- clone -----------------------------------------------------------------

    def _node_online(self, node: str, nodes: Mapping[str, str], what: str) -> None:
        """Refuse a node that is not in the cluster or offline (*nodes*: name → status),
        before anything is made."""
        if node not in nodes:
            raise self._fail(
                f"{what}: node {node} is not in the cluster (it has: "
                f"{', '.join(sorted(visible_line(n) for n in nodes)) or 'none'}); fix "
                f"runtimes.{self.name}.nodes",
                "missing",
                node,
            )
        if nodes[node] != "online":
            raise self._fail(
                f"{what}: node {node} is {visible_line(nodes[node])}: nothing was created; bring "
                "the node back, or plan again with --live so the machine is placed elsewhere",
                "offline",
                node,
            )

    async def _template_node(
        self, guests: Sequence[Mapping[str, Any]]
    ) -> tuple[str, dict[str, Any]]:
        """The node holding the template, and the template's config (read once per client:
        many creates at once ask for it)."""
        async with self._template_lock.get():
            if self._template is None:
                self._template = await self._read_template(guests)
            return self._template

    async def _read_template(
        self, guests: Sequence[Mapping[str, Any]]
    ) -> tuple[str, dict[str, Any]]:
        template = self.spec.template
        found = next((g for g in guests if g["vmid"] == template), None)
        where = f"runtimes.{self.name}.template"
        if found is None:
            raise self._fail(
                f"template VM {template} ({where}) does not exist, or the token cannot see it "
                "(needs VM.Audit); set template to the VMID of the NixOS template",
                "missing",
                vmid=template,
            )
        node = str(found.get("node"))
        if not found.get("template"):
            raise self._fail(
                f"VM {template} ({where}) is not a template; convert it with "
                f"`qm template {template}` or set template to the NixOS template's VMID",
                "missing",
                node,
                template,
            )
        config = await self._config(node, template, f"read template {template}")
        if not has_cloud_init(config):
            raise self._fail(
                f"template {template} ({where}) has no cloud-init drive, so its clones would "
                f"not get their address and SSH keys; add one with `qm set {template} --ide2 "
                f"{self.spec.storage}:cloudinit`",
                "missing",
                node,
                template,
            )
        return node, config

    def _candidates(self, proposed: int) -> list[int]:
        """The proposed VMID if it is in the range, then the rest of the range after it,
        then the range before it."""
        ids = self.spec.vmid_range()
        if proposed not in ids:
            return list(ids)
        return [*range(proposed, ids.stop), *range(ids.start, proposed)]

    async def _clone(
        self,
        *,
        machine: str,
        node: str,
        proposed: int,
        source: str,
        guests: Sequence[Mapping[str, Any]],
        reserved: set[int],
        description: str,
        say: Progress,
    ) -> tuple[int, str]:
        """Full-clone the template onto *node* under a free VMID (the proposed one if free);
        returns the VMID and the one-time mark written into the clone's description.

        ``cluster/nextid`` and the guest list are only hints: another apply or tool may take
        a VMID between the look and the clone, and Proxmox then answers "already exists" —
        the next free VMID is tried. *reserved* holds the VMIDs this client is cloning to."""
        what = f"create VM {machine} on node {node}"
        taken = {int(g["vmid"]) for g in guests} | reserved
        mark = f"[fedi-tui is creating this VM: {secrets.token_hex(8)}]"
        for _ in range(_MAX_TAKEN):
            vmid = next((v for v in self._candidates(proposed) if v not in taken), None)
            if vmid is None:
                raise self._fail(
                    f"{what}: no VMID is free in runtimes.{self.name}.vmids "
                    f"({self.spec.vmids}); widen the range",
                    "refused",
                    node,
                )
            if vmid != proposed:
                say(f"{what}: VMID {proposed} is taken; using {vmid}")
            reserved.add(vmid)
            taken.add(vmid)
            try:
                await self._clone_to(vmid, source, node, machine, f"{description}\n{mark}", say)
            except ProxmoxError as exc:
                reserved.discard(vmid)
                if "already exists" in str(exc):
                    say(f"{what}: VMID {vmid} was taken meanwhile (by someone else); next one")
                    continue
                raise await self._clone_failed(exc, vmid, mark, say) from None
            return vmid, mark
        raise self._fail(
            f"{what}: {_MAX_TAKEN} VMIDs in a row were taken while cloning; something else is "
            "creating guests in the same range — give fedi-tui a range of its own",
            "refused",
            node,
        )

    async def _clone_failed(
        self, exc: ProxmoxError, vmid: int, mark: str, say: Progress
    ) -> ProxmoxError:
        """The error for a clone that failed: if the request may have made a VM (an answer
        lost, a task that could not be followed), that VM is looked for and deleted."""
        if exc.reason in ("auth", "permission", "quorum", "offline", "tls", "missing"):
            return exc  # refused before anything was made
        if await self._remove_clone(vmid, mark, say):
            return exc
        return ProxmoxError(
            f"{exc}; a half-made VM {vmid} (not tagged) may be left: check with `qm list` and "
            f"remove it (`qm destroy {vmid} --purge`) if it is there",
            reason=exc.reason,
            node=exc.node,
            vmid=vmid,
        )

    async def _clone_to(
        self, vmid: int, source: str, node: str, machine: str, description: str, say: Progress
    ) -> None:
        """One clone under *vmid*. A clone request is not safe to repeat blindly, so before
        sending it again (after a dropped connection or a passing error) this looks for the
        clone the first request may have made: one carrying this call's mark."""
        template = self.spec.template
        what = f"create VM {vmid} ({machine}) on node {node}"
        params: dict[str, Any] = {
            "newid": vmid,
            "name": machine,
            "full": 1,
            "storage": self.spec.storage,
            "description": description,
        }
        if source != node:
            params["target"] = node
        sent = 0

        async def once() -> None:
            nonlocal sent
            if sent and await self._is_clone(vmid, description):
                say(f"{what}: the clone from the earlier attempt is there; waiting for it")
                await self._settled(vmid, what, say)
                return
            sent += 1
            say(f"{what}: cloning template {template} from node {source}")
            async with self._mutations.get():
                upid = await self._attempt(
                    lambda api: api.nodes(source).qemu(template).clone.post(**params)
                )
                await self._wait(
                    self._upid(upid, what), f"{what}: clone template {template}", vmid=vmid, say=say
                )

        await self._retrying(what, once, safe=True, say=say, node=source, vmid=vmid)

    async def _is_clone(self, vmid: int, description: str) -> bool:
        found = await self._listed(vmid)
        if found is None:
            return False
        config = await self._config(str(found.get("node")), vmid, f"read VM {vmid}")
        return str(config.get("description", "")).strip() == description.strip()

    async def _settled(self, vmid: int, what: str, say: Progress) -> dict[str, Any]:
        """Wait until the guest carries no clone lock any more."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            found = await self._listed(vmid)
            if found is None:
                raise self._fail(f"{what}: the clone is gone again", "task", vmid=vmid)
            if found.get("lock") != "clone":
                return found
            if loop.time() - start > self.task_timeout:
                raise self._fail(
                    f"{what}: still being cloned after {self.task_timeout:g} s",
                    "timeout",
                    str(found.get("node")),
                    vmid,
                )
            await asyncio.sleep(self.poll_interval)

    async def _remove_clone(self, vmid: int, mark: str, say: Progress) -> bool:
        """Delete the clone this call made and could not finish, if it still carries *mark*
        (it is untagged, so no other rule allows touching it; a clone still running is
        waited for, as a held lock). True when no VM of this call's is left under *vmid*."""
        what = f"remove the half-made VM {vmid}"
        try:
            found = await self._listed(vmid)
            if found is None:
                return True
            node = str(found.get("node"))
            config = await self._config(node, vmid, what)
            if mark not in str(config.get("description", "")):
                return True  # someone else's VM: none of this call's is there
            await self._mutate(
                what,
                lambda api: (
                    api.nodes(node).qemu(vmid).delete(purge=1, **{"destroy-unreferenced-disks": 1})
                ),
                node=node,
                vmid=vmid,
                say=say,
            )
            return await self._listed(vmid) is None
        except ProxmoxError as exc:
            say(f"{what}: failed: {exc}")
            return False

    # --- configure, grow, start, stop, delete -------------------------------------

    async def _configure(
        self, node: str, vmid: int, settings: Mapping[str, Any], what: str, say: Progress
    ) -> None:
        if not settings:
            return
        names = ", ".join(sorted(settings))
        await self._mutate(
            what,
            lambda api: api.nodes(node).qemu(vmid).config.post(**settings),
            node=node,
            vmid=vmid,
            say=say,
            task=f"set {names}",
        )

    def _check_disk(
        self, node: str, vmid: int, disk_gib: float, config: Mapping[str, Any], what: str
    ) -> tuple[str, int]:
        disk = boot_disk(config)
        if disk is None:
            raise self._fail(
                f"{what}: VM {vmid} has no disk to grow; give template {self.spec.template} a "
                "boot disk",
                "missing",
                node,
                vmid,
            )
        key, size = disk
        if size > disk_gib * GIB:
            raise self._fail(
                f"{what}: disk {key} is {size / GIB:g} GiB and cannot shrink to "
                f"{disk_gib:g} GiB; keep the larger size, or move the data to a new VM",
                "refused",
                node,
                vmid,
            )
        return disk

    async def _grow_disk(
        self,
        node: str,
        vmid: int,
        disk_gib: float,
        config: Mapping[str, Any],
        what: str,
        say: Progress,
    ) -> bool:
        """Grow the boot disk to *disk_gib* (never shrink); True when it was resized."""
        key, size = self._check_disk(node, vmid, disk_gib, config, what)
        if size >= disk_gib * GIB:
            return False
        # An absolute size: sending it again after a dropped answer does no harm.
        await self._mutate(
            what,
            lambda api: api.nodes(node).qemu(vmid).resize.put(disk=key, size=f"{disk_gib:g}G"),
            node=node,
            vmid=vmid,
            say=say,
            task=f"grow disk {key} to {disk_gib:g} GiB",
        )
        return True

    async def _power(
        self, node: str, vmid: int, action: str, what: str, say: Progress, **params: Any
    ) -> None:
        """POST status/<action> and wait; a retry that finds the work done counts as done."""
        try:
            await self._mutate(
                what,
                lambda api: getattr(api.nodes(node).qemu(vmid).status, action).post(**params),
                node=node,
                vmid=vmid,
                say=say,
            )
        except ProxmoxError as exc:
            done = {"start": "already running", "stop": "not running", "shutdown": "not running"}
            if action in done and done[action] in str(exc):
                say(f"{what}: {done[action]}")
                return
            raise

    async def _start(self, node: str, vmid: int, status: object, what: str, say: Progress) -> None:
        if status == "running":
            say(f"{what}: already running")
            return
        await self._power(node, vmid, "start", what, say)

    async def _stop(
        self, node: str, vmid: int, status: object, what: str, timeout: int, say: Progress
    ) -> None:
        """Shut the VM down (ACPI) for *timeout* seconds, then stop it hard."""
        if status == "stopped":
            say(f"{what}: already stopped")
            return
        try:
            await self._power(
                node, vmid, "shutdown", f"{what}: shut down", say, timeout=timeout, forceStop=1
            )
        except ProxmoxError as exc:
            if exc.reason in ("auth", "permission", "offline", "quorum", "refused"):
                raise
            say(f"{what}: shutdown failed ({exc.reason}); stopping it hard")
            await self._power(node, vmid, "stop", f"{what}: stop hard", say)

    async def _delete(self, node: str, vmid: int, what: str, say: Progress) -> None:
        await self._mutate(
            what,
            lambda api: (
                api.nodes(node).qemu(vmid).delete(purge=1, **{"destroy-unreferenced-disks": 1})
            ),
            node=node,
            vmid=vmid,
            say=say,
            task="delete it with its disks",
        )
        loop = asyncio.get_running_loop()
        start = loop.time()
        while await self._listed(vmid) is not None:  # Proxmox may list it a moment longer
            if loop.time() - start > 30:
                raise self._fail(
                    f"{what}: the delete task succeeded but VM {vmid} is still listed after "
                    "30 s; check the node's task log, then run again",
                    "task",
                    node,
                    vmid,
                )
            await asyncio.sleep(self.poll_interval)
        say(f"{what}: gone")
