"""Shared pieces of the Proxmox adapter tests: a runtime spec, the fakepve cluster, a client.

fakepve's fixture serves on 127.0.0.1 only. Its nodes always report 4 CPUs and
8 GiB (fakepve does not let a test size them).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]

from fedi_tui.adapters.probe import fingerprint_of_der
from fedi_tui.adapters.proxmox import ProxmoxClient
from fedi_tui.adapters.proxmox_config import GIB
from fedi_tui.core.deploy.ports import VmRequest
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec

ENV = "FEDI_TEST_PVE_TOKEN"
TOKEN = "7c9e6679-7425-40de-944b-e07fc1f90ae7"  # the secret; must never show up anywhere
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB090aQKWbebDKqfGSVLSKpPbvpc/aTNIiEopglL7Hcf noc@t"
TEMPLATE_DISK = "local-lvm:base-9000-disk-0,size=8G"


def runtime(
    url: str,
    *,
    ca_file: str | None = None,
    fingerprint: str | None = None,
    token_id: str = "root@pam!fedi",
    nodes: tuple[str, ...] = ("pve1", "pve2"),
) -> ProxmoxRuntimeSpec:
    data: dict[str, Any] = {
        "kind": "proxmox",
        "api": url,
        "token_id": token_id,
        "token": {"env": ENV},
        "template": 9000,
        "storage": "local-lvm",
        "bridge": "vmbr0",
        "nodes": {n: {"cores": 1, "memory_gib": 1, "disk_gib": 1} for n in nodes},
        "network": {
            "cidr": "127.0.10.0/24",
            "gateway": "127.0.10.1",
            "pool": "127.0.10.10-127.0.10.250",
            "dns": ["127.0.0.53"],
        },
        "ssh": {"user": "root", "key": "~/.ssh/k", "authorized_keys": [KEY]},
        "vmids": "10000-19999",
    }
    if ca_file:
        data["ca_file"] = ca_file
    if fingerprint:
        data["fingerprint"] = fingerprint
    return ProxmoxRuntimeSpec.model_validate(data)


def fingerprint_of_pem(path: str) -> str:
    return fingerprint_of_der(ssl.PEM_cert_to_DER_cert(Path(path).read_text()))


@pytest.fixture
def pve(fakepve: FakePve, monkeypatch: pytest.MonkeyPatch) -> FakePve:
    """Two nodes, the NixOS template on pve1, 500 GiB of VM storage of which 400 are free."""
    monkeypatch.setenv(ENV, TOKEN)
    fakepve.apitokens["root@pam!fedi"] = TOKEN
    fakepve.add_node("pve2")
    fakepve.add_vm(
        9000,
        "nixos-template",
        template=True,
        config={
            "scsi0": TEMPLATE_DISK,
            "ide2": "local-lvm:vm-9000-cloudinit,media=cdrom",
            "boot": "order=scsi0",
            "cores": 1,
            "memory": 1024,
            "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr9,firewall=1",
            "tags": "nixos",
        },
    )
    fakepve.storages["local-lvm"].update(total=500 * GIB, avail=400 * GIB)
    return fakepve


@pytest.fixture
def client(pve: FakePve, fakepve_cafile: str) -> Iterator[ProxmoxClient]:
    c = ProxmoxClient("pve-a", runtime(pve.url, ca_file=fakepve_cafile), poll_interval=0.02)
    yield c
    c.close_now()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fedi_vm(pve: FakePve, vmid: int, node: str = "pve1", **kw: Any) -> None:
    config = {"cores": 2, "memory": 2048, "scsi0": f"local-lvm:vm-{vmid}-disk-0,size=20G"}
    config.update(kw.pop("config", {}))
    config.setdefault("tags", "fedi-tui")
    pve.add_vm(vmid, f"vm{vmid}", node=node, config=config, **kw)


def tasks_of(pve: FakePve, vmid: int) -> list[dict[str, Any]]:
    return [t for t in pve.tasklog if t["id"] == str(vmid)]


LOGIN_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fedi-tui"
)
"""fedi-tui's own public key (the public half of ssh.key)."""
STATE_FILE = Path("/srv/fedi/fedi.toml")


def hypervisor(pve: FakePve, cafile: str, **kw: Any) -> ProxmoxClient:
    """A client as the CLI wires it for apply: state file and fedi-tui's key known; fast polls
    and retries so fault tests do not wait."""
    options: dict[str, Any] = {
        "state_file": STATE_FILE,
        "login_key": LOGIN_KEY,
        "poll_interval": 0.02,
        "retry_delay": 0.05,
        "lock_wait": 10.0,
    }
    spec = kw.pop("spec", None) or runtime(pve.url, ca_file=cafile)
    return ProxmoxClient("pve-a", spec, **(options | kw))


def vm_request(
    machine: str = "coop-web",
    vmid: int = 10000,
    *,
    node: str = "pve1",
    cores: int = 2,
    memory_gib: int = 4,
    disk_gib: int = 20,
    address: str | None = None,
) -> VmRequest:
    """A VM the plan wants; its address is 127.0.10.<vmid - 9990> unless given."""
    return VmRequest(
        machine=machine,
        node=node,
        vmid=vmid,
        cores=cores,
        memory_gib=memory_gib,
        disk_gib=disk_gib,
        address=address or f"127.0.10.{vmid - 9990}",
    )


def apply_resizes(pve: FakePve) -> None:
    """Do what Proxmox does on a disk resize, which fakepve 0.5 only records: set the new
    size in the VM's config (from the resize requests in pve.requests)."""
    for method, path, body in pve.requests:
        found = re.fullmatch(r".*/qemu/(\d+)/resize", path)
        if method != "PUT" or not found:
            continue
        asked = parse_qs(body.decode() if isinstance(body, bytes) else str(body))
        vm = pve.vm(int(found.group(1)))
        if vm is None:
            continue
        key, size = asked["disk"][0], asked["size"][0]
        vm.config[key] = re.sub(r"size=[^,]*", f"size={size}", str(vm.config[key]))


def assert_no_untracked(pve: FakePve, before: set[int]) -> None:
    """Every VM that was not there before is fedi-tui's: in the range, tagged fedi-tui and
    with a machine tag — so a later run finds it."""
    for vm in pve.vms:
        if vm.vmid in before:
            continue
        tags = set(re.split(r"[;, ]+", str(vm.config.get("tags", ""))))
        assert 10000 <= vm.vmid <= 19999, vm.vmid
        assert "fedi-tui" in tags and any(t.startswith("fedi-tui.") for t in tags), (
            vm.vmid,
            tags,
        )


def vmids(pve: FakePve) -> set[int]:
    return {vm.vmid for vm in pve.vms}


class Lines:
    """An on_line sink that keeps the lines and can act when one appears."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.hooks: list[tuple[str, Callable[[], None]]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.lines.append(line)
        for needle, action in list(self.hooks):
            if needle in line:
                self.hooks.remove((needle, action))
                action()

    def when(self, needle: str, action: Callable[[], None]) -> None:
        """Run *action* (once) when a line containing *needle* arrives."""
        self.hooks.append((needle, action))

    def has(self, needle: str) -> bool:
        return any(needle in line for line in self.lines)
