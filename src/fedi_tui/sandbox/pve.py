"""A Proxmox VE for the sandbox: fakepve over HTTPS, and VMs that boot into real machines.

:func:`serving_pve` serves a :class:`fakepve.FakePve` on its own event loop
(a thread) with a certificate its own CA signed, two nodes and a NixOS
template VM (:func:`add_nixos_template`). fakepve keeps VMs as data only;
:class:`Booter` makes them real: it polls the VMs, and when one of
fedi-tui's runs with an address in the pool, it asks its ``boot`` function
for a machine at that address (an sshd host, :mod:`fedi_tui.sandbox.hosts`)
and switches the VM's guest agent on, answering with that address and the
machine's SSH host key — as a NixOS guest would, so fedi-tui pins the key from
the agent. A VM that stops or is destroyed has its machine stopped
(``halt``). Loopback only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from fakepve import FakePve
from fakepve.server import settle

from fedi_tui.sandbox.tls import ServerCerts

TOKEN_ID = "root@pam!fedi"  # noqa: S105 (the id, not the secret)
TEMPLATE = 9000
HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub"
"""Where the guest agent is asked for the VM's SSH host key."""
START_TIMEOUT = 30.0
log = logging.getLogger(__name__)


def add_nixos_template(pve: FakePve, vmid: int = TEMPLATE, node: str = "pve1") -> None:
    """The NixOS template fedi-tui clones: a disk, cloud-init, the guest agent on."""
    pve.add_vm(
        vmid,
        "nixos-template",
        node=node,
        template=True,
        config={
            "scsi0": f"local-lvm:base-{vmid}-disk-0,size=8G",
            "ide2": f"local-lvm:vm-{vmid}-cloudinit,media=cdrom",
            "boot": "order=scsi0",
            "agent": "1",
            "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
        },
    )


def vm_address(vm: Any) -> str | None:
    """The IPv4 address cloud-init gives the VM (``ipconfig0 = ip=A/N,gw=G``), if any."""
    config = str(vm.config.get("ipconfig0", ""))
    if "ip=" not in config:
        return None
    text = config.split("ip=")[-1].split("/")[0].split(",")[0]
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        return None


def agent_answers(
    address: str, host_public_key: str, *, others: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What the guest agent says once the VM booted: its interfaces (*others* first, then
    *address*) and its SSH host key."""
    return {
        "interfaces": [
            {
                "name": f"eth{n}",
                "hardware-address": f"bc:24:11:00:00:{10 + n:02x}",
                "ip-addresses": [{"ip-address": a, "ip-address-type": "ipv4", "prefix": 24}],
            }
            for n, a in enumerate((*others, address))
        ],
        "files": {HOST_KEY_FILE: host_public_key},
    }


Boot = Callable[[Any, str], str | None]
"""``boot(vm, address)`` → the machine's host public key line, or None (no machine there)."""
Halt = Callable[[int], None]
"""``halt(vmid)``: stop the machine of that VM (called again once the VM is destroyed)."""


class Booter:
    """Polls fakepve (every *interval* seconds) and boots/halts machines for running VMs.

    fakepve's VMs are plain objects; the agent is set from this thread, as the
    engine tests have always done.
    """

    def __init__(
        self,
        pve: FakePve,
        boot: Boot,
        halt: Halt | None = None,
        *,
        interval: float = 0.05,
        others: tuple[str, ...] = (),
    ) -> None:
        self.pve = pve
        self.others = others
        """Addresses the agent reports before the VM's own (other interfaces)."""
        self.boot = boot
        self.halt = halt
        self.interval = interval
        self.booted: dict[int, str] = {}
        """vmid → the address its machine runs on."""
        self.known: set[int] = set()
        """Every VM that ever booted: when one is gone from fakepve, it was destroyed."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pve-booter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # one bad VM must not stop the others from booting
                log.exception("booting a VM failed")

    def poll(self) -> None:
        running: dict[int, Any] = {}
        for vm in list(self.pve.vms):
            if vm.status == "running" and not getattr(vm, "template", False):
                running[vm.vmid] = vm
        for vmid in [v for v in self.booted if v not in running]:
            del self.booted[vmid]
            vm = self.pve.vm(vmid)
            if vm is not None:
                vm.agent = None  # stopped: the agent answers again after the next boot
            if self.halt is not None:
                self.halt(vmid)
        existing = {vm.vmid for vm in self.pve.vms}
        for vmid in sorted(self.known - existing):  # destroyed (maybe after it stopped)
            self.known.discard(vmid)
            if self.halt is not None:
                self.halt(vmid)
        for vmid, vm in running.items():
            if vmid in self.booted or vm.agent is not None:
                continue
            address = vm_address(vm)
            if address is None:
                continue
            key = self.boot(vm, address)
            if key is not None:
                vm.agent = agent_answers(address, key, others=self.others)
                self.booted[vmid] = address
                self.known.add(vmid)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


class PveServer:
    """A FakePve served on a private event loop in a thread (stop it with :meth:`stop`)."""

    def __init__(self, pve: FakePve, certs: ServerCerts) -> None:
        self.pve = pve
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="fakepve", daemon=True)
        self.thread.start()
        try:
            self._call(pve.start(str(certs.cert_file), str(certs.key_file)))
        except BaseException:
            self._halt()
            raise

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(START_TIMEOUT)

    def _halt(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(START_TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()

    @property
    def url(self) -> str:
        return str(self.pve.url)

    def stop(self) -> None:
        try:
            self._call(settle())
            self._call(self.pve.stop())
        finally:
            self._halt()


@contextmanager
def serving_pve(
    certs: ServerCerts,
    token: str,
    *,
    address: str = "127.0.0.1",
    nodes: tuple[str, ...] = ("pve1", "pve2"),
    password: str | None = None,
) -> Iterator[PveServer]:
    """fakepve on https://*address*:<free port> with *nodes*, the NixOS template on the
    first, and API token ``root@pam!fedi`` = *token*; time runs at full speed (scale 0)."""
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the sandbox's Proxmox must listen on 127.0.0.0/8, not {address}")
    import secrets

    pve = FakePve(user="root@pam", password=password or secrets.token_hex(16), host=address, port=0)
    pve.time_scale = 0
    pve.apitokens[TOKEN_ID] = token
    for node in nodes[1:]:
        pve.add_node(node)
    add_nixos_template(pve, node=nodes[0])
    server = PveServer(pve, certs)
    try:
        yield server
    finally:
        server.stop()
