"""The provider at a glance, as a view model: capacity placed vs declared, per runtime.

"Placed" is what the enabled applications ask for (their size presets), summed
over the operators on that runtime. Live figures and per-node placement come
with the Proxmox runtime and the resource mapping.
"""

from __future__ import annotations

from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.deploy.configuration import Configuration
from fedi_tui.core.deploy.history import HistoryIndex
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.views.history import last_runs
from fedi_tui.core.views.overviewmodel import (
    DashboardView,
    NodeUsage,
    OperatorRow,
    Overview,
    Resources,
    RuntimeUsage,
    StorageUsage,
)

__all__ = ["NodeUsage", "OperatorRow", "Overview", "Resources", "RuntimeUsage", "StorageUsage"]


def _per_node(config: Configuration | None) -> dict[tuple[str, str], tuple[Resources, int]]:
    """(runtime, node) → resources placed there and machine count; {} if placement fails."""
    if config is None:
        return {}
    out: dict[tuple[str, str], tuple[Resources, int]] = {}
    for m in config.machines:
        if m.node is not None:
            used, count = out.get((m.runtime, m.node), (Resources(), 0))
            out[(m.runtime, m.node)] = (
                used + Resources(m.cores, m.memory_gib, m.disk_gib),
                count + 1,
            )
    return out


def deployment_status(recorded: RecordedState, operator: str) -> str:
    """'never', 'partly', 'unhealthy' or 'deployed': the operator's machines as recorded."""
    machines = [m for m in recorded.machines.values() if operator in m.operators]
    if not machines:
        return "never"
    if any(m.config_hash is None for m in machines):
        return "partly"
    return "deployed" if all(m.healthy for m in machines) else "unhealthy"


def _machines_of(
    spec: StateSpec, recorded: RecordedState, config: Configuration | None
) -> dict[str, set[str]]:
    """Operator → the names of its machines, placed now or recorded."""
    out: dict[str, set[str]] = {op: set() for op in spec.operators}
    placed = [(m.name, m.operators) for m in (config.machines if config else ())]
    for name, operators in [*((n, r.operators) for n, r in recorded.machines.items()), *placed]:
        for op in operators:
            out.setdefault(op, set()).add(name)
    return out


def _deployed(last: str | None, recorded: RecordedState, operator: str) -> str:
    if last is None or last == "never":
        return deployment_status(recorded, operator)  # no history (yet, or lost)
    return last


def overview(
    spec: StateSpec, recorded: RecordedState | None = None, history: HistoryIndex | None = None
) -> Overview:
    """`history` (the deployment index) gives each operator's last run; without it the
    recorded state says whether its machines are deployed."""
    recorded = recorded or RecordedState()
    try:
        config: Configuration | None = map_resources(spec, recorded)
    except FediError:
        config = None
    last = last_runs(history, _machines_of(spec, recorded, config)) if history else {}
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
                _deployed(last.get(op_id), recorded, op_id),
            )
        )
    per_node = _per_node(config)
    runtimes = []
    for name, rt in spec.runtimes.items():
        if isinstance(rt, ProxmoxRuntimeSpec):
            total = Resources()
            nodes = []
            for node_name, node in rt.nodes.items():
                declared = Resources(node.cores, node.memory_gib, node.disk_gib)
                total = total + declared
                used, count = per_node.get((name, node_name), (Resources(), 0))
                nodes.append(NodeUsage(node_name, used, declared, count))
            runtimes.append(
                RuntimeUsage(
                    name,
                    "proxmox",
                    rt.api,
                    len(rt.nodes),
                    placed[name],
                    total,
                    users[name],
                    tuple(nodes) if per_node else (),
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


def dashboard_view(
    loaded: LoadedState, recorded: RecordedState | None, history: HistoryIndex | None
) -> DashboardView:
    """What the dashboard draws of this state (the first-view cache keeps it)."""
    p = loaded.spec.provider
    return DashboardView(
        loaded.path.name,
        p.sandbox,
        f"[b]{p.name}[/b]  ·  {p.domain}  ·  {p.contact}",
        overview(loaded.spec, recorded, history),
    )
