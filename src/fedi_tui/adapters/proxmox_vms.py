"""VM lifecycle on Proxmox: clone from the template, resize, start, stop, destroy.

Each method waits for the tasks it starts and checks their exit status; each
touches only fedi-tui's own VMs (see :mod:`fedi_tui.adapters.proxmox`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedi_tui.adapters.proxmox_config import GIB, boot_disk, has_cloud_init, vm_settings
from fedi_tui.adapters.proxmox_session import Progress, ProxmoxSession

__all__ = ["ProxmoxVms"]


class ProxmoxVms(ProxmoxSession):
    """The VM operations the apply engine uses."""

    async def clone_vm(
        self,
        *,
        node: str,
        vmid: int,
        name: str,
        cores: int,
        memory_gib: float,
        disk_gib: float,
        address: str,
        ssh_keys: Sequence[str] | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        """Full-clone the template to *vmid* on *node*, size it and set cloud-init (address in
        the runtime's network, its gateway and DNS; *ssh_keys*, default the runtime's
        ``ssh.authorized_keys``). The VM stays stopped. Re-running after an interruption
        carries on with the VM already cloned under that VMID and name."""
        say = on_progress or self.on_progress
        what = f"create VM {vmid} ({name}) on node {node}"
        if vmid not in self.spec.vmid_range():
            raise self._fail(
                f"{what}: VMID {vmid} is outside runtimes.{self.name}.vmids ({self.spec.vmids})",
                "refused",
                node,
                vmid,
            )
        existing = await self.guest(vmid)
        if existing is not None:
            if (
                existing.get("name") != name
                or existing.get("node") != node
                or existing.get("template")
            ):
                raise self._fail(
                    f"{what}: VMID {vmid} is taken by {existing.get('name', '?')} on node "
                    f"{existing.get('node')}; plan again with --live so a free VMID is picked",
                    "refused",
                    node,
                    vmid,
                )
            say(f"{what}: VM {vmid} exists from an earlier run; configuring it")
        else:
            source = await self._template_node()
            params: dict[str, Any] = {
                "newid": vmid,
                "name": name,
                "full": 1,
                "storage": self.spec.storage,
            }
            if source != node:
                params["target"] = node
            upid = await self._call(
                what,
                lambda api: api.nodes(source).qemu(self.spec.template).clone.post(**params),
                node=source,
                vmid=vmid,
            )
            await self._wait(
                upid, f"{what}: clone template {self.spec.template}", vmid=vmid, say=say
            )
        config = await self._config(node, vmid, what)
        keys = list(self.spec.ssh.authorized_keys if ssh_keys is None else ssh_keys)
        settings = vm_settings(
            self.spec, config, cores=cores, memory_gib=memory_gib, address=address, ssh_keys=keys
        )
        upid = await self._call(
            what,
            lambda api: api.nodes(node).qemu(vmid).config.post(**settings),
            node=node,
            vmid=vmid,
        )
        await self._wait(upid, f"{what}: set size, network and cloud-init", vmid=vmid, say=say)
        await self._grow_disk(node, vmid, disk_gib, config, what, say)

    async def _template_node(self) -> str:
        template = self.spec.template
        found = await self.guest(template)
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
        if not has_cloud_init(await self._config(node, template, f"read template {template}")):
            raise self._fail(
                f"template {template} ({where}) has no cloud-init drive, so its clones would "
                f"not get their address and SSH keys; add one with `qm set {template} --ide2 "
                f"{self.spec.storage}:cloudinit`",
                "missing",
                node,
                template,
            )
        return node

    async def _grow_disk(
        self,
        node: str,
        vmid: int,
        disk_gib: float,
        config: Mapping[str, Any],
        what: str,
        say: Progress,
    ) -> None:
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
        if size >= disk_gib * GIB:
            say(f"{what}: disk {key} is {size / GIB:g} GiB, no resize needed")
            return
        upid = await self._call(
            what,
            lambda api: api.nodes(node).qemu(vmid).resize.put(disk=key, size=f"{disk_gib:g}G"),
            node=node,
            vmid=vmid,
        )
        if upid:  # Proxmox 7 resizes synchronously; 8 and later start a task
            await self._wait(
                upid, f"{what}: grow disk {key} to {disk_gib:g} GiB", vmid=vmid, say=say
            )

    async def resize_vm(
        self,
        *,
        node: str,
        vmid: int,
        cores: int | None = None,
        memory_gib: float | None = None,
        disk_gib: float | None = None,
        on_progress: Progress | None = None,
    ) -> bool:
        """Change cores and memory, grow the disk (never shrink). Returns True when the
        change waits for the VM's next restart (Proxmox keeps it pending while it runs)."""
        say = on_progress or self.on_progress
        what = f"resize VM {vmid} on node {node}"
        node = str((await self._need(vmid, what, node, say))["node"])
        config = await self._config(node, vmid, what)
        disk = boot_disk(config)
        if disk_gib is not None and disk is not None and disk[1] > disk_gib * GIB:
            raise self._fail(
                f"{what}: disk {disk[0]} is {disk[1] / GIB:g} GiB and cannot shrink to "
                f"{disk_gib:g} GiB; keep the larger size, or move the data to a new VM",
                "refused",
                node,
                vmid,
            )
        settings: dict[str, Any] = {}
        if cores is not None and str(config.get("cores")) != str(cores):
            settings["cores"] = cores
        if memory_gib is not None and str(config.get("memory")) != str(round(memory_gib * 1024)):
            settings["memory"] = round(memory_gib * 1024)
        if settings:
            upid = await self._call(
                what,
                lambda api: api.nodes(node).qemu(vmid).config.post(**settings),
                node=node,
                vmid=vmid,
            )
            await self._wait(upid, f"{what}: set cores and memory", vmid=vmid, say=say)
        if disk_gib is not None:
            await self._grow_disk(node, vmid, disk_gib, config, what, say)
        pending = await self._call(
            what, lambda api: api.nodes(node).qemu(vmid).pending.get(), node=node, vmid=vmid
        )
        waiting = [p["key"] for p in pending or [] if "pending" in p or p.get("delete")]
        if waiting:
            say(f"{what}: {', '.join(waiting)} take effect when the VM restarts")
        return bool(waiting)

    async def start_vm(self, node: str, vmid: int, *, on_progress: Progress | None = None) -> None:
        """Start the VM; nothing to do when it runs already."""
        say = on_progress or self.on_progress
        what = f"start VM {vmid} on node {node}"
        found = await self._need(vmid, what, node, say)
        node = str(found["node"])
        if found.get("status") == "running":
            say(f"{what}: already running")
            return
        upid = await self._call(
            what, lambda api: api.nodes(node).qemu(vmid).status.start.post(), node=node, vmid=vmid
        )
        await self._wait(upid, what, vmid=vmid, say=say)

    async def stop_vm(
        self, node: str, vmid: int, *, timeout: int = 120, on_progress: Progress | None = None
    ) -> None:
        """Shut the VM down (ACPI), forcing it off after *timeout* seconds."""
        say = on_progress or self.on_progress
        what = f"stop VM {vmid} on node {node}"
        found = await self._need(vmid, what, node, say)
        await self._stop(str(found["node"]), vmid, found, what, timeout, say)

    async def _stop(
        self, node: str, vmid: int, found: Mapping[str, Any], what: str, timeout: int, say: Progress
    ) -> None:
        if found.get("status") == "stopped":
            say(f"{what}: already stopped")
            return
        upid = await self._call(
            what,
            lambda api: (
                api.nodes(node).qemu(vmid).status.shutdown.post(timeout=timeout, forceStop=1)
            ),
            node=node,
            vmid=vmid,
        )
        await self._wait(upid, what, vmid=vmid, say=say)

    async def destroy_vm(
        self, node: str, vmid: int, *, on_progress: Progress | None = None
    ) -> None:
        """Stop and delete the VM with its disks; nothing to do when it is gone already."""
        say = on_progress or self.on_progress
        what = f"destroy VM {vmid} on node {node}"
        found = await self._owned(vmid, what, node, say)
        if found is None:
            say(f"{what}: already gone")
            return
        node = str(found["node"])
        if found.get("status") != "stopped":
            await self._stop(node, vmid, found, f"{what}: stop it first", 60, say)
        upid = await self._call(
            what,
            lambda api: (
                api.nodes(node).qemu(vmid).delete(purge=1, **{"destroy-unreferenced-disks": 1})
            ),
            node=node,
            vmid=vmid,
        )
        await self._wait(upid, what, vmid=vmid, say=say)
