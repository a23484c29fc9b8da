"""The composition root: the adapters behind the core's ports, for one state file.

The CLI commands and the TUI get their outside world from here; nothing else
builds adapters. Each outside system is made on first use, so a run that
needs no Proxmox never resolves its token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

from fedi_tui.core.deploy.observed import ObservedRuntime
from fedi_tui.core.deploy.ports import Hypervisor, Ports
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import GarageStorageSpec, ProxmoxRuntimeSpec
from fedi_tui.core.workspace import Workspace

T = TypeVar("T")


class _Made(Generic[T]):
    """A factory that makes one adapter per name on first use, and closes them all."""

    def __init__(self, make: Callable[[str], T]) -> None:
        self._make = make
        self.made: dict[str, T] = {}

    def __call__(self, name: str) -> T:
        if name not in self.made:
            self.made[name] = self._make(name)
        return self.made[name]

    async def close(self) -> None:
        for adapter in self.made.values():
            close = getattr(adapter, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        self.made.clear()


def build_ports(workspace: Workspace) -> Ports:
    from fedi_tui.adapters.dns import DnsResolver
    from fedi_tui.adapters.garage import GarageAdmin
    from fedi_tui.adapters.machines import SshConnector
    from fedi_tui.adapters.s3 import S3Objects

    spec = workspace.spec
    base = workspace.path.parent

    def storage_spec(name: str) -> GarageStorageSpec:
        entry = spec.storage.get(name)
        if entry is None:
            raise FediError(
                f"storage {name} is not in {workspace.path}; put it back or remove its apps"
            )
        return entry

    def hypervisor(name: str) -> Hypervisor:
        from fedi_tui.adapters.proxmox import ProxmoxClient
        from fedi_tui.core.deploy.deploykey import read_public_key

        runtime = spec.runtimes.get(name)
        if not isinstance(runtime, ProxmoxRuntimeSpec):
            raise FediError(f"runtime {name} is not a Proxmox runtime in {workspace.path}")
        return ProxmoxClient(
            name,
            runtime,
            base,
            state_file=workspace.path,
            login_key=read_public_key(name, runtime.ssh.key, workspace.path),
        )

    async def capacity(name: str) -> ObservedRuntime:
        from fedi_tui.adapters.proxmox import observe_runtime

        runtime = spec.runtimes.get(name)
        if not isinstance(runtime, ProxmoxRuntimeSpec):
            raise FediError(f"runtime {name} is not a Proxmox runtime in {workspace.path}")
        return await observe_runtime(name, runtime, base)

    storage = _Made(lambda name: GarageAdmin(name, storage_spec(name), base))
    objects = _Made(lambda name: S3Objects(name, storage_spec(name), base))
    hypervisors = _Made(hypervisor)

    async def close() -> None:
        for made in (storage, objects, hypervisors):
            await made.close()

    return Ports(
        machines=SshConnector(),
        storage=storage,
        objects=objects,
        hypervisors=hypervisors,
        close=close,
        resolver=DnsResolver,
        capacity=capacity,
    )
