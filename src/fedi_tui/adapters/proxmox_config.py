"""Pure helpers for the Proxmox client: VM config values, tags, disks, node capacity.

No network here; :mod:`fedi_tui.adapters.proxmox` feeds these with what the API returned.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

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


MACHINE_TAG = "fedi-tui."
"""Prefix of the tag naming the machine a VM is for: ``fedi-tui.<machine>``."""
_TAG_OK = re.compile(r"[a-z0-9_][a-z0-9_+.-]*")


def machine_tag(machine: str) -> str:
    """The Proxmox tag that names *machine* (machine names are lower-case identifiers)."""
    tag = MACHINE_TAG + machine.lower()
    if not _TAG_OK.fullmatch(tag):
        raise ValueError(f"machine name {machine!r} cannot be a Proxmox tag")
    return tag


def machine_of(tags: object) -> str | None:
    """The machine a guest's tags name, if exactly one."""
    names = {t[len(MACHINE_TAG) :] for t in tags_of(tags) if t.startswith(MACHINE_TAG)}
    return names.pop() if len(names) == 1 else None


def with_tags(existing: object, machine: str) -> str:
    """The guest's tags plus fedi-tui's two (others' tags are kept; stale machine tags go)."""
    kept = {t for t in tags_of(existing) if not t.startswith(MACHINE_TAG)}
    return ";".join(sorted(kept | {TAG, machine_tag(machine)}))


def agent_enabled(config: Mapping[str, Any]) -> bool:
    """True when the VM's ``agent`` option turns the QEMU guest agent on (``1``,
    ``enabled=1,…``)."""
    for part in str(config.get("agent", "0")).split(","):
        key, sep, value = part.partition("=")
        if (not sep and key.strip() == "1") or (key.strip() == "enabled" and value.strip() == "1"):
            return True
    return False


def address_of(ipconfig: object) -> str | None:
    """The address of an ``ipconfig0`` value (``ip=127.0.10.10/24,gw=…``)."""
    for part in str(ipconfig or "").split(","):
        key, _, value = part.partition("=")
        if key in ("ip", "ip6") and "/" in value:
            return value.split("/", 1)[0]
    return None


def _net_options(value: str) -> tuple[str, dict[str, str]]:
    """A net0 value as (model, options), the model's MAC left out."""
    parts = [p for p in value.split(",") if p]
    model = parts[0].split("=", 1)[0] if parts and "bridge=" not in parts[0] else ""
    options = dict(p.split("=", 1) for p in parts[1 if model else 0 :] if "=" in p)
    return model, options


def _keys_of(value: object) -> list[str]:
    return [k.strip() for k in unquote(str(value or "")).splitlines() if k.strip()]


def same_setting(key: str, have: object, want: object) -> bool:
    """True when the VM's value for *key* already is what fedi-tui would set."""
    if have is None:
        return False
    if key == "tags":
        return tags_of(have) == tags_of(want)
    if key == "net0":
        return _net_options(str(have)) == _net_options(str(want))
    if key == "sshkeys":
        return _keys_of(have) == _keys_of(want)
    if key == "description":
        return str(have).strip() == str(want).strip()
    return str(have) == str(want)


def vm_settings(
    spec: ProxmoxRuntimeSpec,
    config: Mapping[str, Any],
    *,
    cores: int,
    memory_gib: float,
    address: str,
    ssh_keys: Sequence[str],
    machine: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The config fedi-tui wants: size, tags, network bridge, cloud-init and description.

    *config* is the VM's config now (its tags, model and MAC are kept). Without
    *machine*, only the ``fedi-tui`` tag is added."""
    net = ipaddress.ip_network(spec.network.cidr)
    ip_key, gw_key = ("ip", "gw") if net.version == 4 else ("ip6", "gw6")
    settings: dict[str, Any] = {
        "cores": cores,
        "memory": round(memory_gib * 1024),
        "tags": with_tags(config.get("tags"), machine) if machine else with_tag(config.get("tags")),
        "net0": with_bridge(str(config["net0"]) if config.get("net0") else None, spec.bridge),
        "ciuser": spec.ssh.user,
        "ipconfig0": f"{ip_key}={address}/{net.prefixlen},{gw_key}={spec.network.gateway}",
    }
    if ssh_keys:
        # Proxmox wants the keys URL-encoded (then form-encoded once more by the client).
        settings["sshkeys"] = quote("\n".join(ssh_keys), safe="")
    if spec.network.dns:
        settings["nameserver"] = " ".join(spec.network.dns)
    if description is not None:
        settings["description"] = description
    return settings


def changed_settings(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What of *wanted* differs from *current* (the config with pending values applied)."""
    return {k: v for k, v in wanted.items() if not same_setting(k, current.get(k), v)}


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
