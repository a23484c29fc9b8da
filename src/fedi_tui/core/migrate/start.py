"""Starting or resuming a migration: checks that name what is wrong, and the new record."""

from __future__ import annotations

from collections.abc import Sequence

from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.record import MigrationRecord, Place, load_migration
from fedi_tui.core.migrate.slot import target_view
from fedi_tui.core.workspace import Workspace


def source_place(workspace: Workspace, operator: str) -> Place:
    op = workspace.spec.operators[operator]
    return Place(runtime=op.runtime, storage=op.storage, domain=op.domain)


def current(workspace: Workspace, operator: str) -> MigrationRecord | None:
    """The operator's migration that is not finished nor aborted, if any."""
    record = load_migration(workspace.state_dir, operator)
    return record if record is not None and record.status in ("running", "migrated") else None


def begin(
    workspace: Workspace,
    operator: str,
    *,
    runtime: str | None,
    storage: str | None,
    domain: str | None,
    resolver: str | None,
    user: str,
) -> tuple[MigrationRecord, bool]:
    """The record to run: the operator's current migration (checked against the options
    given), or a new one. Returns (record, whether it is new); nothing is saved."""
    workspace.check_operator(operator)
    existing = current(workspace, operator)
    if existing is not None:
        wanted = {"--to-runtime": runtime, "--to-storage": storage, "--new-domain": domain}
        have = {
            "--to-runtime": existing.target.runtime,
            "--to-storage": existing.target.storage,
            "--new-domain": existing.target.domain,
        }
        for option, value in wanted.items():
            if value is not None and value != have[option]:
                raise FediError(
                    f"operator {operator} is already migrating to {existing.target.runtime} / "
                    f"{existing.target.storage} (domain {existing.target.domain}); {option} "
                    f"{value} differs: run without it to resume, or --abort first"
                )
        if resolver is not None and resolver != existing.resolver:
            existing = existing.model_copy(update={"resolver": resolver})
        return existing, False
    if runtime is None or storage is None:
        raise FediError(
            f"operator {operator} has no migration under way; give --to-runtime and --to-storage"
        )
    spec = workspace.spec
    source = source_place(workspace, operator)
    if runtime not in spec.runtimes:
        raise FediError(
            f"--to-runtime {runtime}: no such runtime in {workspace.path}; "
            f"known: {', '.join(spec.runtimes) or 'none'}"
        )
    if storage not in spec.storage:
        raise FediError(
            f"--to-storage {storage}: no such storage in {workspace.path}; "
            f"known: {', '.join(spec.storage) or 'none'}"
        )
    if runtime == source.runtime or storage == source.storage:
        raise FediError(
            f"operator {operator} runs on {source.runtime} / {source.storage}: a migration "
            "moves it to another runtime and another storage; to change only one, edit "
            "fedi.toml and apply"
        )
    _check_deployed(workspace, operator)
    record = MigrationRecord(
        operator=operator,
        source=source,
        target=Place(runtime=runtime, storage=storage, domain=domain or source.domain),
        resolver=resolver,
        user=user,
    )
    _ = target_view(workspace, record).config  # placement problems show before anything runs
    return record, True


def _check_deployed(workspace: Workspace, operator: str) -> None:
    config = workspace.config.only_operator(operator)
    if not config.machines:
        raise FediError(f"operator {operator} has no enabled apps: there is nothing to migrate")
    recorded = workspace.recorded
    for machine in config.machines:
        rec = recorded.machines.get(machine.name)
        if rec is None or rec.config_hash is None:
            raise FediError(
                f"operator {operator}: machine {machine.name} is not deployed yet; apply it "
                "first (or just change the operator's runtime in fedi.toml: nothing to move)"
            )
        for app in machine.apps:
            if app.operator == operator and app.key not in recorded.secrets:
                raise FediError(
                    f"operator {operator}: {app.key} has no generated secrets recorded; "
                    "apply it first"
                )


def refuse_touching_migrations(workspace: Workspace, steps: Sequence[Step]) -> None:
    """Refuse a deployment whose steps touch an operator that is migrating: switching its
    source would start the apps the migration froze (and its records are the source's)."""
    from fedi_tui.core.migrate.record import active_migrations

    for record in active_migrations(workspace.state_dir):
        op = record.operator
        mine = workspace.recorded.only_operator(op)
        config = workspace.config.only_operator(op)
        names = {m.name for m in config.machines} | set(mine.machines)
        names |= {b.name for b in config.buckets} | set(mine.buckets) | set(mine.keys)
        names |= {a.key for m in config.machines for a in m.apps if a.operator == op}
        touched = [s.id for s in steps if s.target in names]
        if touched:
            raise FediError(
                f"operator {op} is migrating to {record.target.runtime} / "
                f"{record.target.storage} ({record.status}); these steps would change its "
                f"source: {', '.join(touched[:5])}; finish or abort the migration first "
                f"(`fedi-tui migrate --operator {op} --finish` or `--abort`)"
            )
