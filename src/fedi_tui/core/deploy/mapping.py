"""Resource mapping: application requirements × the provider's resources → a Configuration.

Pure and deterministic. Existing machines stay where the recorded state has
them (node, VMID, address); new machines go, in name order, to the node with
the most free memory that fits them within the runtime's overcommit limits.
Addresses and VMIDs recorded as in use are never handed out again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.deploy.configuration import AppInstance, Bucket, Configuration, Machine
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.model import StateSpec, TomlPath
from fedi_tui.core.state.spec import NixosRuntimeSpec, ProxmoxRuntimeSpec

Unplaced = tuple[TomlPath, str]
"""A placement problem: the key in fedi.toml it is about, and what is wrong."""


class PlacementError(FediError):
    """Some machines cannot be placed; the message explains each one."""

    SHOWN = 12

    def __init__(self, problems: list[Unplaced]) -> None:
        self.problems = problems
        """Each problem with the key of fedi.toml it is about (for `validate`)."""
        reasons = [reason for _, reason in problems]
        self.reasons = reasons
        lines = [f"  - {r}" for r in reasons[: self.SHOWN]]
        if len(reasons) > self.SHOWN:
            lines.append(f"  … and {len(reasons) - self.SHOWN} more machines that do not fit")
        super().__init__("cannot place every machine:\n" + "\n".join(lines))


def instances(spec: StateSpec) -> list[AppInstance]:
    """Every enabled app instance, in operator then app order."""
    modules = installed_apps()
    out = []
    for op_id, op in spec.operators.items():
        for name, options in op.apps.items():
            if options.enable:
                module = modules[name]
                req = module.requirements(op_id, op.domain, options)
                out.append(AppInstance(op_id, module, options, req))
    return out


def map_resources(
    spec: StateSpec, recorded: RecordedState, facts: ObservedFacts | None = None
) -> Configuration:
    """The configuration the desired state asks for, placed on the provider's resources."""
    groups, errors = _group(spec)
    machines: list[Machine] = []
    for runtime_name, wanted in sorted(groups.items()):
        runtime = spec.runtimes[runtime_name]
        if isinstance(runtime, NixosRuntimeSpec):
            machines += wanted
        else:
            placed, problems = _place(runtime_name, runtime, wanted, recorded, facts)
            machines += placed
            errors += problems
    if errors:
        raise PlacementError(errors)
    buckets = tuple(
        Bucket(
            name=bucket,
            storage=spec.operators[app.operator].storage,
            key_name=app.key,
            public=bucket in app.requirements.public_buckets,
            quota_gib=app.requirements.s3_quota_gib,
            instance=app.key,
            operator=app.operator,
        )
        for m in machines
        for app in m.apps
        for bucket in app.requirements.buckets
    )
    return Configuration(tuple(sorted(machines, key=lambda m: m.name)), buckets)


def _group(spec: StateSpec) -> tuple[dict[str, list[Machine]], list[Unplaced]]:
    """Machines wanted per runtime, before placement."""
    groups: dict[str, list[Machine]] = {}
    errors: list[Unplaced] = []
    by_runtime: dict[str, list[AppInstance]] = {}
    for app in instances(spec):
        by_runtime.setdefault(spec.operators[app.operator].runtime, []).append(app)
    for runtime_name, apps in by_runtime.items():
        runtime = spec.runtimes[runtime_name]
        storage = {spec.operators[a.operator].storage for a in apps}
        if isinstance(runtime, NixosRuntimeSpec):
            storage_of = {a.operator: spec.operators[a.operator].storage for a in apps}
            errors += _one_host_conflicts(runtime_name, apps, storage_of)
            groups[runtime_name] = [
                Machine(
                    name=runtime_name,
                    runtime=runtime_name,
                    kind="nixos",
                    storage=min(storage),
                    apps=tuple(apps),
                    cores=0,
                    memory_gib=0,
                    disk_gib=0,
                    address=runtime.host,
                    reason=f"NixOS host {runtime.host}: every app of its operators runs there",
                )
            ]
            continue
        if runtime.placement == "vm-per-app":
            sets = [(a.key, [a]) for a in apps]
        else:
            per_op: dict[str, list[AppInstance]] = {}
            for a in apps:
                per_op.setdefault(a.operator, []).append(a)
            sets = list(per_op.items())
        groups[runtime_name] = [_vm(name, runtime_name, spec, members) for name, members in sets]
    return groups, errors


def _one_host_conflicts(
    runtime: str, apps: list[AppInstance], storage_of: dict[str, str]
) -> list[Unplaced]:
    errors: list[Unplaced] = []
    seen: dict[str, str] = {}
    for a in apps:
        name = a.module.name
        if name in seen:
            errors.append(
                (
                    ("operators", a.operator, "apps", name, "enable"),
                    f"runtime {runtime} is one NixOS host and runs one {name}: operators "
                    f"{seen[name]} and {a.operator} both enable it; move one to another runtime",
                )
            )
        seen.setdefault(name, a.operator)
    storage = set(storage_of.values())
    if len(storage) > 1:
        other = next(op for op, name in storage_of.items() if name != min(storage))
        errors.append(
            (
                ("operators", other, "storage"),
                f"runtime {runtime} is one NixOS host with one S3 endpoint, but its operators "
                f"use storage {', '.join(sorted(storage))}; give them the same storage",
            )
        )
    return errors


def _vm(name: str, runtime: str, spec: StateSpec, apps: list[AppInstance]) -> Machine:
    reqs = [a.requirements for a in apps]
    return Machine(
        name=name,
        runtime=runtime,
        kind="proxmox",
        storage=spec.operators[apps[0].operator].storage,
        apps=tuple(apps),
        cores=sum(r.cores for r in reqs),
        memory_gib=sum(r.memory_gib for r in reqs),
        disk_gib=sum(r.disk_gib for r in reqs),
    )


@dataclass
class _Node:
    name: str
    cores: float
    memory: float
    disk: float
    used_cores: int = 0
    used_memory: int = 0
    used_disk: int = 0
    online: bool = True
    members: list[str] = field(default_factory=list)

    def free(self) -> tuple[float, float, float]:
        return (
            self.cores - self.used_cores,
            self.memory - self.used_memory,
            self.disk - self.used_disk,
        )

    def fits(self, m: Machine) -> bool:
        cores, memory, disk = self.free()
        return self.online and m.cores <= cores and m.memory_gib <= memory and m.disk_gib <= disk

    def take(self, m: Machine) -> None:
        self.used_cores += m.cores
        self.used_memory += m.memory_gib
        self.used_disk += m.disk_gib
        self.members.append(m.name)


def _nodes(name: str, runtime: ProxmoxRuntimeSpec, facts: ObservedFacts | None) -> list[_Node]:
    observed = facts.runtimes.get(name) if facts else None
    ratio = runtime.overcommit
    nodes = []
    for node_name, declared in sorted(runtime.nodes.items()):
        seen = observed.nodes.get(node_name) if observed else None
        cores, memory, disk = (
            (seen.cores, seen.memory_gib, seen.disk_gib)
            if seen
            else (declared.cores, declared.memory_gib, declared.disk_gib)
        )
        nodes.append(
            _Node(
                node_name,
                cores * ratio.cpu,
                memory * ratio.memory,
                disk * ratio.disk,
                online=seen.online if seen else True,
            )
        )
    return nodes


def _place(
    name: str,
    runtime: ProxmoxRuntimeSpec,
    wanted: list[Machine],
    recorded: RecordedState,
    facts: ObservedFacts | None,
) -> tuple[list[Machine], list[Unplaced]]:
    nodes = {n.name: n for n in _nodes(name, runtime, facts)}
    addresses = _addresses(runtime, recorded)
    observed = facts.runtimes.get(name) if facts else None
    taken_ids = recorded.used_vmids() | (set(observed.used_vmids) if observed else set())
    vmids = (v for v in runtime.vmid_range() if v not in taken_ids)
    placed: list[Machine] = []
    errors: list[Unplaced] = []
    fresh: list[Machine] = []
    for m in sorted(wanted, key=lambda m: m.name):
        rec = recorded.machines.get(m.name)
        if rec is not None and rec.runtime == name and rec.node in nodes:
            node = nodes[rec.node]
            node.take(m)
            placed.append(
                replace(
                    m,
                    node=rec.node,
                    vmid=rec.vmid,
                    address=rec.address,
                    reason=f"stays on {rec.node} (recorded)",
                )
            )
        else:
            fresh.append(m)
    for m in fresh:
        fitting = [n for n in nodes.values() if n.fits(m)]
        if not fitting:
            errors.append((_where(m), _why_not(m, list(nodes.values()))))
            continue
        # nodes are in name order and max() keeps the first of equals: ties go to the first name
        best = max(fitting, key=lambda n: (n.free()[1], n.free()[0]))
        free_mem = best.free()[1]
        candidates = ", ".join(f"{n.name} {n.free()[1]:g}" for n in fitting)
        vmid = next(vmids, None)
        address = next(addresses, None)
        if vmid is None:
            errors.append(
                (
                    ("runtimes", name, "vmids"),
                    f"{m.name}: no free VMID left in {runtime.vmids} of runtime {name}",
                )
            )
            continue
        if address is None:
            errors.append(
                (
                    ("runtimes", name, "network", "pool"),
                    f"{m.name}: the address pool {runtime.network.pool} of runtime {name} "
                    "is exhausted",
                )
            )
            continue
        best.take(m)
        placed.append(
            replace(
                m,
                node=best.name,
                vmid=vmid,
                address=address,
                reason=(
                    f"{best.name}: most free memory ({free_mem:g} GiB) among nodes that fit "
                    f"{m.cores} cores, {m.memory_gib} GiB, {m.disk_gib} GiB disk "
                    f"(free GiB: {candidates})"
                ),
            )
        )
    return placed, errors


def _where(m: Machine) -> TomlPath:
    """The key in fedi.toml that asks for machine `m`: its app, or its operator."""
    if len(m.apps) == 1:
        app = m.apps[0]
        return ("operators", app.operator, "apps", app.module.name)
    return ("operators", m.apps[0].operator) if m.apps else ("runtimes", m.runtime)


def _why_not(m: Machine, nodes: list[_Node]) -> str:
    need = f"needs {m.cores} cores, {m.memory_gib} GiB memory, {m.disk_gib} GiB disk"
    online = [n for n in nodes if n.online]
    if not online:
        return f"{m.name} ({need}): every node of runtime {m.runtime} is offline"
    for index, label in ((1, "memory"), (0, "cores"), (2, "disk")):
        amount = (m.cores, m.memory_gib, m.disk_gib)[index]
        if all(n.free()[index] < amount for n in online):
            most = max(online, key=lambda n: n.free()[index])
            unit = "" if index == 0 else " GiB"
            what = "cores" if index == 0 else f"GiB {label}"
            return (
                f"{m.name} ({need}): no node has {amount} {what} free; "
                f"most free: {most.name} with {most.free()[index]:g}{unit}"
            )
    return f"{m.name} ({need}): no single node has all of it free at once"


def _addresses(runtime: ProxmoxRuntimeSpec, recorded: RecordedState) -> Iterator[str]:
    net = runtime.network
    network = ipaddress.ip_network(net.cidr)
    first, last = net.pool_range()
    used = recorded.used_addresses() | {net.gateway}
    special = {network.network_address, network.broadcast_address}
    current = first
    while current <= last:  # type: ignore[operator]
        if str(current) not in used and current not in special:
            yield str(current)
        current += 1
