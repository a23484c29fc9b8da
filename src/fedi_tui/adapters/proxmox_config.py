"""Pure helpers for the Proxmox client: VM config values, tags, disks, node capacity.

No network here; :mod:`fedi_tui.adapters.proxmox` feeds these with what the API returned.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fedi_tui.core.deploy.observed import ObservedNode
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec

GIB = 1024**3
TAG = "fedi-tui"
"""Proxmox tag fedi-tui puts on every VM it creates."""

_DISK_KEY = re.compile(r"^(scsi|virtio|sata|ide)(\d+)$")
_SIZE = re.compile(r"(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def tags_of(value: object) -> set[str]:
    """The tags of a guest as Proxmox lists them (';', ',' or ' ' separated), lower-cased."""
    return {t for t in re.split(r"[;, ]+", str(value or "").lower()) if t}


def owns(spec: ProxmoxRuntimeSpec, guest: Mapping[str, Any]) -> bool:
    """fedi-tui's rule for its own guests: VMID inside ``vmids`` *and* tagged ``fedi-tui``."""
    try:
        vmid = int(guest.get("vmid", -1))
    except (TypeError, ValueError):
        return False
    return vmid in spec.vmid_range() and TAG in tags_of(guest.get("tags"))


def with_tag(existing: object) -> str:
    return ";".join(sorted(tags_of(existing) | {TAG}))


def with_bridge(net0: str | None, bridge: str) -> str:
    """The template's net0 with its bridge replaced (model, MAC and options kept)."""
    if not net0:
        return f"virtio,bridge={bridge}"
    parts = [p for p in net0.split(",") if p and not p.startswith("bridge=")]
    return ",".join([*parts, f"bridge={bridge}"])


def _size_bytes(value: str) -> int:
    found = _SIZE.search(value)
    if not found:
        return 0
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def _is_data_disk(value: object) -> bool:
    text = str(value)
    volume = text.split(",", 1)[0]
    return "media=cdrom" not in text and "cloudinit" not in volume and volume not in ("none", "")


def has_cloud_init(config: Mapping[str, Any]) -> bool:
    """True if the VM has a cloud-init drive (what ipconfig0, ciuser and sshkeys act through)."""
    return any(
        _DISK_KEY.match(k) and "cloudinit" in str(v).split(",", 1)[0] for k, v in config.items()
    )


def boot_disk(config: Mapping[str, Any]) -> tuple[str, int] | None:
    """The disk the VM boots from, and its size in bytes: first disk of the boot order,
    else the first of scsi/virtio/sata/ide by number. None when the VM has no disk."""
    disks = {k: str(v) for k, v in config.items() if _DISK_KEY.match(k) and _is_data_disk(v)}
    if not disks:
        return None
    order = str(config.get("boot") or "")
    if order.startswith("order="):
        for device in order[len("order=") :].split(";"):
            if device in disks:
                return device, _size_bytes(disks[device])
    kinds = ("scsi", "virtio", "sata", "ide")

    def rank(key: str) -> tuple[int, int]:
        m = _DISK_KEY.match(key)
        assert m is not None
        return kinds.index(m.group(1)), int(m.group(2))

    key = min(disks, key=rank)
    return key, _size_bytes(disks[key])


def vm_settings(
    spec: ProxmoxRuntimeSpec,
    config: Mapping[str, Any],
    *,
    cores: int,
    memory_gib: float,
    address: str,
    ssh_keys: Sequence[str],
) -> dict[str, Any]:
    """Config for a fresh clone: size, the fedi-tui tag, network bridge and cloud-init."""
    net = ipaddress.ip_network(spec.network.cidr)
    ip_key, gw_key = ("ip", "gw") if net.version == 4 else ("ip6", "gw6")
    settings: dict[str, Any] = {
        "cores": cores,
        "memory": round(memory_gib * 1024),
        "tags": with_tag(config.get("tags")),
        "net0": with_bridge(str(config["net0"]) if config.get("net0") else None, spec.bridge),
        "ciuser": spec.ssh.user,
        "ipconfig0": f"{ip_key}={address}/{net.prefixlen},{gw_key}={spec.network.gateway}",
    }
    if ssh_keys:
        # Proxmox wants the keys URL-encoded (then form-encoded once more by the client).
        settings["sshkeys"] = quote("\n".join(ssh_keys), safe="")
    if spec.network.dns:
        settings["nameserver"] = " ".join(spec.network.dns)
    return settings


def _gib(value: float) -> float:
    """Bytes → GiB, rounded down to 1/100 so capacity is never overstated."""
    return max(0.0, math.floor(value / GIB * 100) / 100)


def node_capacity(
    node: Mapping[str, Any],
    foreign: Iterable[Mapping[str, Any]],
    disk_bytes: float,
) -> ObservedNode:
    """What one node offers fedi-tui's VMs: its size minus the guests that are not fedi-tui's.

    *node* is the node's entry of ``GET /nodes``; *foreign* are the other guests placed on
    it (templates are left out: they never run); *disk_bytes* is what the VM storage offers.
    """
    if node.get("status") != "online":
        return ObservedNode(cores=0, memory_gib=0, disk_gib=0, online=False)
    guests = [g for g in foreign if not g.get("template")]
    cores = int(node.get("maxcpu") or 0) - sum(int(g.get("maxcpu") or 0) for g in guests)
    memory = int(node.get("maxmem") or 0) - sum(int(g.get("maxmem") or 0) for g in guests)
    return ObservedNode(
        cores=max(0, cores), memory_gib=_gib(memory), disk_gib=_gib(disk_bytes), online=True
    )


def storage_offer(
    status: Mapping[str, Any], volumes: Iterable[Mapping[str, Any]], ours: set[int]
) -> float:
    """Bytes of the VM storage fedi-tui may fill: what is free plus what its own disks take,
    at most the storage's total. An inactive or disabled storage offers nothing."""
    if not int(status.get("active") or 0) or not int(status.get("enabled", 1) or 0):
        return 0.0
    free = int(status.get("avail") or 0)
    mine = 0
    for vol in volumes:
        try:
            owner = int(vol.get("vmid", -1))
        except (TypeError, ValueError):
            continue
        if owner in ours:
            mine += int(vol.get("size") or 0)
    total = int(status.get("total") or 0)
    offer = free + mine
    return float(min(offer, total) if total else offer)
