"""The dashboard's view model as plain data (stdlib only): what the first screen draws,
and its JSON form for the first-view cache (`core.views.firstview`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
class NodeUsage:
    """One Proxmox node: what the resource mapping places on it vs its declared capacity."""

    name: str
    placed: Resources
    total: Resources
    machines: int


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
    node_usage: tuple[NodeUsage, ...] = ()
    """Per node, when every machine could be placed (see `core.mapping`)."""


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


@dataclass(frozen=True)
class DashboardView:
    """Everything the dashboard's first frame draws from the state: the nav bar's file and
    sandbox badge, the provider line and the overview (no secret is among them)."""

    file_name: str
    sandbox: bool
    provider: str
    overview: Overview


def _resources(raw: Any) -> Resources:
    return Resources(int(raw[0]), int(raw[1]), int(raw[2]))


def _res_json(r: Resources) -> list[int]:
    return [r.cores, r.memory_gib, r.disk_gib]


def view_to_json(view: DashboardView) -> dict[str, Any]:
    o = view.overview
    return {
        "file_name": view.file_name,
        "sandbox": view.sandbox,
        "provider": view.provider,
        "runtimes": [
            {
                "name": r.name,
                "kind": r.kind,
                "where": r.where,
                "nodes": r.nodes,
                "placed": _res_json(r.placed),
                "total": None if r.total is None else _res_json(r.total),
                "operators": r.operators,
                "node_usage": [
                    [n.name, _res_json(n.placed), _res_json(n.total), n.machines]
                    for n in r.node_usage
                ],
            }
            for r in o.runtimes
        ],
        "storage": [[s.name, s.endpoint, s.trust, s.quota_gib, s.buckets] for s in o.storage],
        "operators": [
            [
                op.id,
                op.name,
                op.domain,
                op.runtime,
                [list(a) for a in op.apps],
                list(op.disabled),
                op.last_deployment,
            ]
            for op in o.operators
        ],
    }


def view_from_json(raw: Any) -> DashboardView:
    """The view back from `view_to_json`; KeyError, TypeError, ValueError or IndexError
    when `raw` is not one."""
    runtimes = tuple(
        RuntimeUsage(
            str(r["name"]),
            str(r["kind"]),
            str(r["where"]),
            int(r["nodes"]),
            _resources(r["placed"]),
            None if r["total"] is None else _resources(r["total"]),
            int(r["operators"]),
            tuple(
                NodeUsage(str(n[0]), _resources(n[1]), _resources(n[2]), int(n[3]))
                for n in r["node_usage"]
            ),
        )
        for r in raw["runtimes"]
    )
    storage = tuple(
        StorageUsage(str(s[0]), str(s[1]), str(s[2]), int(s[3]), int(s[4])) for s in raw["storage"]
    )
    operators = tuple(
        OperatorRow(
            str(op[0]),
            str(op[1]),
            str(op[2]),
            str(op[3]),
            tuple((str(a[0]), str(a[1])) for a in op[4]),
            tuple(str(d) for d in op[5]),
            str(op[6]),
        )
        for op in raw["operators"]
    )
    provider = raw["provider"]
    if not isinstance(provider, str) or not isinstance(raw["sandbox"], bool):
        raise TypeError("not a dashboard view")
    return DashboardView(
        str(raw["file_name"]), raw["sandbox"], provider, Overview(runtimes, storage, operators)
    )
