"""One sandbox provider's supervisor: a background process that serves it until told to stop.

``python -m fedi_tui.sandbox.supervisor DIR/a`` (started by `fedi-tui sandbox
up`, in a session of its own) runs, in this process: fakepve (two nodes, the
NixOS template), the Garage admin stand-in and the health endpoints; as
processes of their own, each recorded by pid in ``processes.jsonl``: the moto
S3 server, the plain NixOS host's sshd, and one sshd per running VM (booted
and halted by :class:`fedi_tui.sandbox.pve.Booter`). When it all serves, it
writes ``ready.json`` (what is where). SIGTERM or SIGINT stops everything it
started and removes its records; `fedi-tui sandbox down` cleans up by the
records if the supervisor itself was killed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from fedi_tui.sandbox.garage import running_garage
from fedi_tui.sandbox.hosts import (
    DeployHost,
    HealthServer,
    deploy_settings,
    hardware_path,
    running_deploy_host,
)
from fedi_tui.sandbox.layout import ProviderDir
from fedi_tui.sandbox.pve import TEMPLATE, TOKEN_ID, Booter, serving_pve
from fedi_tui.sandbox.records import RECORDS, append_record, record_for
from fedi_tui.sandbox.s3 import REGION, running_moto
from fedi_tui.sandbox.sshd import FAST_USER
from fedi_tui.sandbox.tls import make_certs

log = logging.getLogger("fedi_tui.sandbox")
VM_PORT = 22


class Machines:
    """The VMs' machines: an sshd host per running VM, on the VM's address, port 22."""

    def __init__(self, where: ProviderDir, health: HealthServer) -> None:
        self.where = where
        self.health = health
        self._lock = threading.Lock()
        self._running: dict[int, tuple[contextlib.ExitStack, DeployHost]] = {}
        self.network = f"{where.vm_net}.0/24"

    def _allowed(self, address: str) -> bool:
        last = int(address.rsplit(".", 1)[1])
        return address.startswith(f"{self.where.vm_net}.") and 10 <= last <= 40

    def boot(self, vm: Any, address: str) -> str | None:
        if not self._allowed(address):
            log.warning("VM %s has address %s outside the sandbox's pool", vm.vmid, address)
            return None
        with self._lock:
            if vm.vmid in self._running:
                return self._running[vm.vmid][1].ssh.host_public_key
            stack = contextlib.ExitStack()
            base = self.where.machines / f"vm-{vm.vmid}"
            try:
                host = stack.enter_context(
                    running_deploy_host(
                        base / "sshd",
                        address=address,
                        health=self.health,
                        port=VM_PORT,
                        client_key=self.where.ssh_key,
                        base=base,
                        mount_at=self.where.vm_root,
                    )
                )
            except Exception:
                stack.close()
                raise
            append_record(
                self.where.root, record_for(f"sshd vm {vm.vmid}", host.ssh.pid, address, VM_PORT)
            )
            self._running[vm.vmid] = (stack, host)
            log.info("VM %s booted: sshd on %s:%s", vm.vmid, address, VM_PORT)
            return host.ssh.host_public_key

    def halt(self, vmid: int, *, destroyed: bool) -> None:
        with self._lock:
            entry = self._running.pop(vmid, None)
        if entry is not None:
            entry[0].close()
            log.info("VM %s halted", vmid)
        if destroyed:
            shutil.rmtree(self.where.machines / f"vm-{vmid}", ignore_errors=True)
            log.info("VM %s destroyed: its files are gone", vmid)

    def close(self) -> None:
        for vmid in list(self._running):
            self.halt(vmid, destroyed=False)


def _read_secret(path: Path) -> str:
    return path.read_text().strip()


def serve(where: ProviderDir, stop: threading.Event) -> None:
    """Start the provider, write ready.json, wait for *stop*, stop it all."""
    with contextlib.ExitStack() as stack:
        health = HealthServer()
        stack.callback(health.close)
        garage_certs = make_certs(where.tls / "garage", name=f"sandbox-{where.name}-garage")
        pve_certs = make_certs(where.tls / "pve", name=f"sandbox-{where.name}-pve")
        moto = stack.enter_context(
            running_moto(where.root / "moto", certs=garage_certs, new_session=True)
        )
        append_record(where.root, record_for("moto (S3)", moto.pid, moto.address, moto.port))
        garage = stack.enter_context(
            running_garage(
                where.root / "garage",
                provider=where.name,
                moto=moto,
                token=_read_secret(where.garage_token),
            )
        )
        nixos = stack.enter_context(
            running_deploy_host(
                where.machines / "nixos" / "sshd",
                address=where.nixos_address,
                health=health,
                client_key=where.ssh_key,
                base=where.machines / "nixos",
            )
        )
        append_record(
            where.root,
            record_for("sshd nixos host", nixos.ssh.pid, nixos.ssh.address, nixos.ssh.port),
        )
        pve = stack.enter_context(serving_pve(pve_certs, _read_secret(where.pve_token)))
        where.vm_root.mkdir(exist_ok=True)
        where.vm_root.chmod(0o755)
        machines = Machines(where, health)
        stack.callback(machines.close)

        def halt(vmid: int) -> None:
            machines.halt(vmid, destroyed=pve.pve.vm(vmid) is None)

        booter = Booter(pve.pve, machines.boot, halt)
        stack.callback(booter.close)  # runs first: nothing boots while the machines stop
        ready = {
            "provider": where.name,
            "supervisor": os.getpid(),
            "pve": {
                "url": pve.url,
                "ca_file": str(pve_certs.ca_file),
                "token_id": TOKEN_ID,
                "template": TEMPLATE,
                "nodes": ["pve1", "pve2"],
            },
            "garage": {
                "s3_endpoint": garage.s3_endpoint,
                "admin_endpoint": garage.admin_endpoint,
                "ca_file": garage.ca_file,
                "region": REGION,
            },
            "health_port": health.port,
            "nixos": {
                "address": nixos.ssh.address,
                "port": nixos.ssh.port,
                "host_key": nixos.ssh.host_public_key,
                "user": nixos.ssh.user,
                "base_module": str(nixos.hardware_configuration),
                "deploy": nixos.deploy_settings(),
            },
            "vms": {
                "network": machines.network,
                "gateway": f"{where.vm_net}.1",
                "pool": f"{where.vm_net}.10-{where.vm_net}.40",
                "user": FAST_USER,
                "base_module": str(hardware_path(where.vm_root)),
                "deploy": deploy_settings(where.vm_root, health.port),
            },
        }
        temporary = where.ready.with_suffix(".tmp")
        temporary.write_text(json.dumps(ready, indent=2) + "\n")
        temporary.replace(where.ready)
        log.info("sandbox provider %s ready", where.name)
        stop.wait()
        log.info("stopping")
    where.ready.unlink(missing_ok=True)
    (where.root / RECORDS).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m fedi_tui.sandbox.supervisor PROVIDER_DIR", file=sys.stderr)
        return 2
    directory = Path(args[0]).resolve()
    where = ProviderDir(directory, directory.name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the terminal that ran `up` may close
    try:
        serve(where, stop)
    except Exception:
        log.exception("the sandbox provider %s failed", where.name)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
