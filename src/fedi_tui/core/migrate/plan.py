"""What a migration will do, before it does it: pure, from the two views of the state.

`migration_plan(source, target, record)` lists the phases, the machines and
buckets the target needs (from the target's own deploy plan), the databases and
buckets to copy, and the DNS records the operator must change (name, type,
old → new).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fedi_tui.core.deploy.configuration import Configuration, Machine
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.migrate.record import PHASES, TITLES, MigrationRecord
from fedi_tui.core.state.spec import NixosRuntimeSpec
from fedi_tui.core.workspace import Workspace


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    old: str
    """What it points at now ('' when the name is new)."""
    new: str

    def line(self) -> str:
        return f"{self.name}  {self.type}  {self.old or '(new name)'} → {self.new}"


@dataclass(frozen=True)
class Copy:
    """One instance's data to move: its database and its buckets."""

    instance: str
    database: str | None
    buckets: tuple[str, ...]
    source_machine: str
    target_machine: str


@dataclass(frozen=True)
class MigrationPlan:
    operator: str
    record: MigrationRecord
    target: Planned
    copies: tuple[Copy, ...]
    dns: tuple[DnsRecord, ...]

    def lines(self) -> list[str]:
        r = self.record
        out = [
            f"Migrate operator {self.operator}:",
            f"  from runtime {r.source.runtime}, storage {r.source.storage}, "
            f"domain {r.source.domain}",
            f"  to   runtime {r.target.runtime}, storage {r.target.storage}, "
            f"domain {r.target.domain}",
            "",
            "Phases:",
        ]
        for n, name in enumerate(PHASES, 1):
            state = r.phase(name).state
            mark = {"done": "✓", "running": "…", "failed": "✗"}.get(state, " ")
            out.append(f"  {mark} {n}. {TITLES[name]}")
        out.append("  (then `--finish` decommissions the source; `--abort` goes back)")
        out += ["", "Target deployment: " + str(self.target.plan.summary)]
        for m in self.target.config.machines:
            out.append(f"  machine {m.name} on {m.runtime} ({address_of(self.target.config, m)})")
        for b in self.target.config.buckets:
            out.append(f"  bucket {b.name} on {b.storage}")
        out += ["", "Data to copy:"]
        for c in self.copies:
            db = f"database {c.database}" if c.database else "no database"
            out.append(f"  {c.instance}: {db}; buckets {', '.join(c.buckets) or 'none'}")
        out += ["", "DNS records to change at the registrar (name, type, old → new):"]
        out += [f"  {d.line()}" for d in self.dns] or ["  none"]
        return out


def address_of(config: Configuration, machine: Machine) -> str:
    return machine.address or "address given when it is created"


def public_address(workspace: Workspace, machine: Machine) -> str:
    """The address the apps of a machine answer on (its VM address, or the NixOS host)."""
    runtime = workspace.spec.runtimes[machine.runtime]
    if isinstance(runtime, NixosRuntimeSpec):
        return runtime.host
    recorded = workspace.recorded.machines.get(machine.name)
    return (recorded.address if recorded else None) or machine.address or ""


def record_type(address: str) -> str:
    try:
        return "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    except ValueError:
        return "CNAME"


def migration_plan(source: Workspace, target: Workspace, record: MigrationRecord) -> MigrationPlan:
    op = record.operator
    planned = target.plan(operator=op)
    src = source.config.only_operator(op)
    dst = planned.config
    src_of = {a.key: (m, a) for m in src.machines for a in m.apps}
    copies: list[Copy] = []
    dns: list[DnsRecord] = []
    for m in dst.machines:
        new = public_address(target, m)
        for app in m.apps:
            if app.operator != op:
                continue
            old_machine, old_app = src_of.get(app.key, (None, None))
            copies.append(
                Copy(
                    app.key,
                    app.module.data.database,
                    app.requirements.buckets,
                    old_machine.name if old_machine else "",
                    m.name,
                )
            )
            old = public_address(source, old_machine) if old_machine else ""
            same_name = (
                old_app is not None and old_app.requirements.domain == app.requirements.domain
            )
            dns.append(
                DnsRecord(app.requirements.domain, record_type(new), old if same_name else "", new)
            )
    return MigrationPlan(op, record, planned, tuple(copies), tuple(dns))
