"""The composition root: the adapters behind the core's ports, for one state file.

The CLI commands and the TUI get their outside world from here; nothing else
builds adapters. Each outside system is made on first use, so a run that
needs no Proxmox never resolves its token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fedi_tui.core.deploy.ports import Hypervisor, ObjectStore, Ports, StorageAdmin
from fedi_tui.core.errors import FediError
from fedi_tui.core.workspace import Workspace

T = TypeVar("T")


def _cached(make: Callable[[str], T]) -> Callable[[str], T]:
    made: dict[str, T] = {}

    def get(name: str) -> T:
        if name not in made:
            made[name] = make(name)
        return made[name]

    return get


def known_hosts_file(workspace: Workspace) -> Path:
    """fedi-tui's known_hosts in the state directory (created empty, owner-only)."""
    path = workspace.state_dir / "known_hosts"
    if not path.exists():
        workspace.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
    return path


def build_ports(workspace: Workspace) -> Ports:
    from fedi_tui.adapters.machines import SshConnector

    spec = workspace.spec
    base = workspace.path.parent

    def storage(name: str) -> StorageAdmin:
        raise FediError(f"storage {name}: the Garage admin adapter is not available in this build")

    def objects(name: str) -> ObjectStore:
        raise FediError(f"storage {name}: the S3 adapter is not available in this build")

    def hypervisor(name: str) -> Hypervisor:
        raise FediError(f"runtime {name}: the Proxmox apply adapter is not available in this build")

    del spec, base
    return Ports(
        machines=SshConnector(),
        storage=_cached(storage),
        objects=_cached(objects),
        hypervisors=_cached(hypervisor),
    )
