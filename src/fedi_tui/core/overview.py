"""The provider at a glance, as a view model: capacity placed vs declared, per runtime.

"Placed" is what the enabled applications ask for (their size presets), summed
over the operators on that runtime. Live figures and per-node placement come
with the Proxmox runtime and the resource mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.recorded import RecordedState
from fedi_tui.core.spec import ProxmoxRuntimeSpec
from fedi_tui.core.statemodel import StateSpec


@dataclass(frozen=True)
class Resources:
    cores: int = 0
    memory_gib: int = 0
    disk_gib: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cores + other.cores,
            self.memory_gib + other.memory_gib,
            self.disk_gib + other.disk_gib,
        )


@dataclass(frozen=True)
class RuntimeUsage:
    name: str
    kind: str
    where: str
    nodes: int
    placed: Resources
    total: Resources | None
    """Declared capacity (Proxmox nodes); None for a NixOS host, which declares none."""
    operators: int


@dataclass(frozen=True)
class StorageUsage:
    name: str
    endpoint: str
    trust: str
    quota_gib: int
    buckets: int


@dataclass(frozen=True)
class OperatorRow:
    id: str
    name: str
    domain: str
    runtime: str
    apps: tuple[tuple[str, str], ...]
    """(app, size) of each enabled application."""
    disabled: tuple[str, ...]
    last_deployment: str
    """What the recorded state says about its machines (`deployment_status`)."""


@dataclass(frozen=True)
class Overview:
    runtimes: tuple[RuntimeUsage, ...]
    storage: tuple[StorageUsage, ...]
    operators: tuple[OperatorRow, ...]


def deployment_status(recorded: RecordedState, operator: str) -> str:
    """'never', 'partly', 'unhealthy' or 'deployed': the operator's machines as recorded."""
    machines = [m for m in recorded.machines.values() if operator in m.operators]
    if not machines:
        return "never"
    if any(m.config_hash is None for m in machines):
        return "partly"
    return "deployed" if all(m.healthy for m in machines) else "unhealthy"


def overview(spec: StateSpec, recorded: RecordedState | None = None) -> Overview:
    modules = installed_apps()
    placed: dict[str, Resources] = {name: Resources() for name in spec.runtimes}
    users: dict[str, int] = dict.fromkeys(spec.runtimes, 0)
    quota: dict[str, int] = dict.fromkeys(spec.storage, 0)
    buckets: dict[str, int] = dict.fromkeys(spec.storage, 0)
    rows: list[OperatorRow] = []
    for op_id, op in spec.operators.items():
        users[op.runtime] = users.get(op.runtime, 0) + 1
        enabled: list[tuple[str, str]] = []
        disabled: list[str] = []
        for name, options in op.apps.items():
            if not options.enable:
                disabled.append(name)
                continue
            enabled.append((name, options.size))
            preset = modules[name].sizes[options.size]
            need = Resources(preset.cores, preset.memory_gib, preset.disk_gib)
            placed[op.runtime] = placed.get(op.runtime, Resources()) + need
            quota[op.storage] = quota.get(op.storage, 0) + preset.s3_quota_gib
            buckets[op.storage] = buckets.get(op.storage, 0) + len(modules[name].buckets)
        rows.append(
            OperatorRow(
                op_id,
                op.name,
                op.domain,
                op.runtime,
                tuple(enabled),
                tuple(disabled),
                deployment_status(recorded or RecordedState(), op_id),
            )
        )
    runtimes = []
    for name, rt in spec.runtimes.items():
        if isinstance(rt, ProxmoxRuntimeSpec):
            total = Resources()
            for node in rt.nodes.values():
                total = total + Resources(node.cores, node.memory_gib, node.disk_gib)
            runtimes.append(
                RuntimeUsage(
                    name, "proxmox", rt.api, len(rt.nodes), placed[name], total, users[name]
                )
            )
        else:
            where = f"{rt.host}:{rt.port}"
            runtimes.append(RuntimeUsage(name, "nixos", where, 1, placed[name], None, users[name]))
    storage = [
        StorageUsage(
            name,
            st.s3_endpoint,
            "fingerprint" if st.fingerprint else ("CA file" if st.ca_file else "system CAs"),
            quota[name],
            buckets[name],
        )
        for name, st in spec.storage.items()
    ]
    return Overview(tuple(runtimes), tuple(storage), tuple(rows))
