"""`--finish` and `--abort`: the two ways a migration ends, each resumable step by step.

finish: remove the source through the engine (VMs destroyed, a NixOS host's
configuration cleared, keys revoked; buckets only with --prune-data), switch
the operator's `runtime`, `storage` (and `domain`) in fedi.toml (key-level
edits, comments kept), then move the slot's records and secrets into the state
directory's own. The order keeps a crash between two steps harmless: the next
`--finish` does what is left.

abort: start the source's app services again and check them, then remove what
was built on the target (its machines, keys and buckets: they hold copies only).
"""

from __future__ import annotations

import shutil

from fedi_tui.core.deploy.details import HealthDetail
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.recorded import load_recorded, save_recorded
from fedi_tui.core.migrate.context import MigrationContext
from fedi_tui.core.migrate.phases import own_machines, unfreeze
from fedi_tui.core.migrate.slot import (
    overlay,
    placed_data,
    slot_recorded,
    with_data,
    without_apps,
)
from fedi_tui.core.state.file import update_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.workspace import Workspace


async def finish_phase(ctx: MigrationContext, *, prune_data: bool) -> None:
    op, target = ctx.operator, ctx.record.target
    if not ctx.is_done("remove-source"):
        source = Workspace.open(ctx.source.path)
        removal = with_data(source, without_apps(source.loaded.data, op), source.recorded)
        planned = removal.plan(operator=op, prune_data=prune_data)
        for bucket in planned.plan.kept_buckets:
            ctx.log(
                f"bucket {bucket} on {ctx.record.source.storage} is kept (no --prune-data); "
                "fedi-tui no longer manages it"
            )
        await ctx.deploy(removal, planned, planned.plan.steps, slot=False)
        ctx.step_done("remove-source")
    if not ctx.is_done("switch-state"):
        edits = [
            Edit(("operators", op, "runtime"), target.runtime),
            Edit(("operators", op, "storage"), target.storage),
        ]
        if ctx.record.domain_changes:
            edits.append(Edit(("operators", op, "domain"), target.domain))
        update_state(ctx.source.path, lambda _loaded: edits)
        ctx.log(
            f"{ctx.source.path}: operators.{op} now runs on {target.runtime} / {target.storage}"
        )
        ctx.step_done("switch-state")
    if not ctx.is_done("move-records"):
        main, slot = ctx.main_secrets, ctx.slot_secrets
        moved = slot_recorded(ctx.state_dir, op)
        for key in moved.keys:
            secret = slot.key_secret(key)
            if secret is not None:
                main.put_key_secret(key, secret)
        for instance in moved.secrets:
            files = slot.app_files(instance)
            if files:
                main.remove_app(instance)
                main.add_app_files(instance, files)
        save_recorded(ctx.state_dir, overlay(load_recorded(ctx.state_dir), moved))
        ctx.log("the target's records and secrets are now the state directory's own")
        ctx.step_done("move-records")
    shutil.rmtree(ctx.slot, ignore_errors=True)


async def abort_phase(ctx: MigrationContext) -> None:
    op = ctx.operator
    if not ctx.is_done("restart-source"):
        await unfreeze(ctx)
        source = ctx.source
        planned = source.plan(operator=op)
        checks = [
            Step(
                "health-check",
                m.name,
                "check",
                (),
                HealthDetail(tuple(a.requirements.health_url for a in m.apps)),
            )
            for m in own_machines(source, op)
        ]
        await ctx.deploy(source, planned, checks, slot=False)
        ctx.step_done("restart-source")
    if ctx.record.phase("dns").state in ("running", "done", "failed"):
        ctx.log("point the DNS records back at the source if you changed them:")
    if not ctx.is_done("remove-target"):
        target = ctx.target()
        data = without_apps(placed_data(ctx.source.loaded.data, op, ctx.record.target), op)
        removal = with_data(target, data, target.recorded)
        planned = removal.plan(operator=op, prune_data=True)
        await ctx.deploy(removal, planned, planned.plan.steps, slot=True)
        ctx.step_done("remove-target")
    shutil.rmtree(ctx.slot, ignore_errors=True)
