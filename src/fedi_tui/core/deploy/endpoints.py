"""Where and how to log in to a machine of the configuration (or one being removed)."""

from __future__ import annotations

from pathlib import Path

from fedi_tui.core.deploy.ports import MachineEndpoint
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import PROXMOX_SSH_PORT
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import NixosRuntimeSpec


def endpoint_of(
    desired: Desired,
    recorded: RecordedState,
    machine: str,
    *,
    state_file: Path,
    known_hosts: Path,
    address: str | None = None,
    host_key: str | None = None,
) -> MachineEndpoint:
    """The machine's SSH endpoint: a NixOS host as its runtime says; a VM at its recorded
    address with the host key its guest agent gave (`address`/`host_key` override them
    for a VM just created). The key file is relative to the state file's directory."""
    rec = recorded.machines.get(machine)
    wanted = next((m for m in desired.config.machines if m.name == machine), None)
    runtime_name = wanted.runtime if wanted is not None else rec.runtime if rec else None
    if runtime_name is None or runtime_name not in desired.spec.runtimes:
        raise FediError(f"{machine}: its runtime is not in the state file; cannot reach it")
    runtime = desired.spec.runtimes[runtime_name]
    key = Path(runtime.ssh.key).expanduser()
    if not key.is_absolute():
        key = state_file.parent / key
    pinned: str | None
    if isinstance(runtime, NixosRuntimeSpec):
        host, port, pinned = runtime.host, runtime.port, runtime.host_key
    else:
        host = (
            address or (rec.address if rec else None) or (wanted.address if wanted else None)
        ) or ""
        port, pinned = PROXMOX_SSH_PORT, host_key or (rec.host_key if rec else None)
    if not host:
        raise FediError(f"{machine}: no address is known for it; run plan to see why")
    return MachineEndpoint(
        name=machine,
        host=host,
        port=port,
        user=runtime.ssh.user,
        key_path=str(key),
        host_key=pinned,
        known_hosts=str(known_hosts),
        connect_timeout=float(runtime.deploy.connect_timeout),
    )
