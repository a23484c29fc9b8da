"""The seven phases of a migration, each idempotent: running one again after a crash
redoes only what its record does not list as done, and what it redoes is safe to redo.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from fedi_tui.core.apps.base import SecretNeed
from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.secretstore import SecretStore, secret_fragments
from fedi_tui.core.migrate.context import MigrationContext, PhaseFailed
from fedi_tui.core.migrate.plan import migration_plan
from fedi_tui.core.portability.database import Database, transfer
from fedi_tui.core.portability.objects import VerifiedRecord, copy_objects
from fedi_tui.core.portability.ports import BucketObjects
from fedi_tui.core.portability.progress import Meter
from fedi_tui.core.portability.secrets import S3_VARIABLES, with_key
from fedi_tui.core.workspace import Workspace

STORAGE_STEPS = ("create-bucket", "set-quota", "create-key")


def services(
    workspace: Workspace, machine: Machine, operator: str, verb: str
) -> list[tuple[str, ...]]:
    """The command that stops (or starts) the operator's app units on a machine, if any."""
    wanted = tuple(
        u
        for a in machine.apps
        if a.operator == operator
        for u in (a.module.data.stop_units if verb == "stop" else a.module.data.units_to_start)
    )
    if not wanted:
        return []
    command = workspace.spec.runtimes[machine.runtime].deploy.services_command
    return [(*command, verb, *wanted)]


def own_machines(workspace: Workspace, operator: str) -> tuple[Machine, ...]:
    return workspace.config.only_operator(operator).machines


# --- 1. provision ---------------------------------------------------------------------


def reused_secret(need: SecretNeed, source: str, key_id: str, key_secret: str) -> str | None:
    """The target's file for a secret of the source: the same value, but the target's own
    S3 credentials in it. None for a file of S3 credentials only (the target makes it)."""
    if need.kind == "random":
        return source
    if need.kind == "s3-env":
        return None
    return with_key(source, key_id, key_secret)


def seed_secrets(ctx: MigrationContext, target: Workspace) -> int:
    """Put the source's generated secrets into the slot before the target's are generated,
    so the target gets the same ones (sessions and keys stay valid). Returns files seeded."""
    seeded = 0
    main, slot = ctx.main_secrets, ctx.slot_secrets
    for machine in own_machines(target, ctx.operator):
        for app in machine.apps:
            if app.operator != ctx.operator:
                continue
            source = main.app_files(app.key)
            key = target.recorded.keys.get(app.key)
            key_secret = slot.key_secret(app.key)
            wanted: dict[str, SecretStr] = {}
            for need in app.module.secrets:
                value = source.get(need.name)
                if value is None:
                    raise PhaseFailed(
                        f"{app.key}: the source has no secret {need.name} in "
                        f"{main.root}; deploy the source (apply) before migrating it"
                    )
                if need.kind != "random" and (
                    key is None or key.access_key_id is None or key_secret is None
                ):
                    raise PhaseFailed(
                        f"{app.key}: the target's S3 key is not recorded yet; run the "
                        "migration again"
                    )
                text = reused_secret(
                    need,
                    value.get_secret_value(),
                    key.access_key_id if key and key.access_key_id else "",
                    key_secret.get_secret_value() if key_secret else "",
                )
                if text is not None:
                    wanted[need.name] = SecretStr(text)
                    ctx.redact.add(*secret_fragments(text))
            seeded += len(slot.add_app_files(app.key, wanted))
    return seeded


def held_target(ctx: MigrationContext) -> Workspace:
    """The target as phases 1-6 deploy it: the apps installed but held (not started at
    boot or on switch) so they never run against the empty database and bucket."""
    return ctx.target().with_held(True)


async def provision(ctx: MigrationContext) -> None:
    target = held_target(ctx)
    planned = target.plan(operator=ctx.operator)
    storage = [s for s in planned.plan.steps if s.kind in STORAGE_STEPS]
    await ctx.deploy(target, planned, storage, slot=True)
    target = held_target(ctx)
    ctx.log(f"secrets: {seed_secrets(ctx, target)} files of the source reused on the target")
    ctx.check_pause()
    planned = target.plan(operator=ctx.operator)
    rest = [s for s in planned.plan.steps if s.kind != "health-check"]
    ctx.log("deploying the target with the apps held: not started until the data is in")
    await ctx.deploy(target, planned, rest, slot=True)


# --- 2. freeze ------------------------------------------------------------------------


async def freeze(ctx: MigrationContext) -> None:
    for machine in own_machines(ctx.source, ctx.operator):
        await ctx.run_on(
            ctx.source, machine.name, services(ctx.source, machine, ctx.operator, "stop")
        )
        ctx.step_done(f"stop:{machine.name}")
        ctx.check_pause()


async def unfreeze(ctx: MigrationContext) -> None:
    for machine in own_machines(ctx.source, ctx.operator):
        await ctx.run_on(
            ctx.source, machine.name, services(ctx.source, machine, ctx.operator, "start")
        )


# --- 3. databases, 4. objects -----------------------------------------------------------


async def databases(ctx: MigrationContext) -> None:
    target = ctx.target()
    plan = migration_plan(ctx.source, target, ctx.record)
    for copy in plan.copies:
        if copy.database is None or ctx.is_done(f"db:{copy.instance}"):
            continue
        meter = Meter(
            ctx.emit,
            deployment=ctx.deployment,
            step=f"phase:{ctx.phase}",
            part="database",
            what=copy.database,
            machine=copy.target_machine,
        )
        source = await ctx.shell(ctx.source, copy.source_machine)
        try:
            destination = await ctx.shell(target, copy.target_machine)
            try:
                moved = await transfer(
                    Database(
                        source, copy.database, database_command(ctx.source, copy.source_machine)
                    ),
                    Database(
                        destination, copy.database, database_command(target, copy.target_machine)
                    ),
                    meter,
                    on_source_line=ctx.line_sink(copy.source_machine),
                    on_target_line=ctx.line_sink(copy.target_machine),
                )
            finally:
                await destination.close()
        finally:
            await source.close()
        meter.finish()
        ctx.log(
            f"{copy.instance}: database {copy.database}: {moved.size:,} bytes dumped and "
            f"restored (sha256 {moved.sha256[:16]}…)"
        )
        ctx.step_done(f"db:{copy.instance}")
        ctx.check_pause()


def database_command(workspace: Workspace, machine: str) -> list[str]:
    return list(
        workspace.spec.runtimes[workspace.config.machine(machine).runtime].deploy.database_command
    )


def bucket_of(
    ctx: MigrationContext, workspace: Workspace, store: SecretStore, instance: str, bucket: str
) -> BucketObjects:
    key = workspace.recorded.keys.get(instance)
    secret = store.key_secret(instance)
    record = workspace.recorded.buckets.get(bucket)
    if key is None or key.access_key_id is None or secret is None or record is None:
        raise PhaseFailed(
            f"{instance}: bucket {bucket} or its key is not recorded with a secret in "
            f"{store.root.parent}; deploy it (apply) before migrating"
        )
    return ctx.ports.objects(record.storage).bucket(bucket, key.access_key_id, secret)


async def objects(ctx: MigrationContext) -> None:
    target = ctx.target()
    plan = migration_plan(ctx.source, target, ctx.record)
    for copy in plan.copies:
        for bucket in copy.buckets:
            if ctx.is_done(f"bucket:{bucket}"):
                continue
            source = bucket_of(ctx, ctx.source, ctx.main_secrets, copy.instance, bucket)
            destination = bucket_of(ctx, target, ctx.slot_secrets, copy.instance, bucket)
            meter = Meter(
                ctx.emit,
                deployment=ctx.deployment,
                step=f"phase:{ctx.phase}",
                part="objects",
                what=bucket,
            )
            with VerifiedRecord(ctx.slot / "objects" / f"{bucket}.jsonl") as verified:
                report = await copy_objects(source, destination, record=verified, meter=meter)
            meter.finish()
            ctx.log(
                f"{bucket}: {len(report.copied)} objects copied and verified "
                f"({report.bytes:,} bytes), {report.skipped} verified before"
            )
            ctx.step_done(f"bucket:{bucket}")
            ctx.check_pause()


# --- 5. fix-ups -------------------------------------------------------------------------


def _without_s3(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(S3_VARIABLES))


async def fixups(ctx: MigrationContext) -> None:
    target = ctx.target()
    same = 0
    for machine in own_machines(target, ctx.operator):
        for app in machine.apps:
            if app.operator != ctx.operator:
                continue
            source = ctx.main_secrets.app_files(app.key)
            moved = ctx.slot_secrets.app_files(app.key)
            for need in app.module.secrets:
                if need.kind == "s3-env":
                    continue
                a, b = source.get(need.name), moved.get(need.name)
                if (
                    a is None
                    or b is None
                    or _without_s3(a.get_secret_value()) != _without_s3(b.get_secret_value())
                ):
                    raise PhaseFailed(
                        f"{app.key}: secret {need.name} on the target differs from the "
                        "source's; abort the migration (`--abort`) and start it again"
                    )
                same += 1
    ctx.log(f"secrets: {same} files identical on source and target")
    if not ctx.record.domain_changes:
        return
    src_apps = {a.key: a for m in own_machines(ctx.source, ctx.operator) for a in m.apps}
    for machine in own_machines(target, ctx.operator):
        for app in machine.apps:
            old = src_apps.get(app.key)
            step = f"host:{app.key}"
            if app.operator != ctx.operator or old is None or ctx.is_done(step):
                continue
            old_domain = old.requirements.domain
            commands = app.module.host_change(app.options, app.requirements, old_domain)
            ctx.log(f"{app.key}: host change {old_domain} → {app.requirements.domain}")
            await ctx.run_on(target, machine.name, [c.argv for c in commands])
            ctx.step_done(step)


# --- 6. DNS ---------------------------------------------------------------------------


async def dns(ctx: MigrationContext) -> None:
    target = ctx.target()
    plan = migration_plan(ctx.source, target, ctx.record)
    if not plan.dns:
        return
    if ctx.record.resolver is None:
        raise PhaseFailed(
            "DNS: no resolver to verify the records with; give --resolver ADDR:PORT "
            "(e.g. 127.0.0.53:53) and run the migration again"
        )
    resolver = ctx.ports.resolver(ctx.record.resolver)
    ctx.log("change these records at the registrar (name, type, old → new):")
    for record in plan.dns:
        ctx.log(f"  {record.line()}")
    deadline = time.monotonic() + ctx.dns_timeout
    last = ""
    while True:
        wrong: list[str] = []
        for record in plan.dns:
            answers = await resolver.lookup(record.name, record.type)
            if record.new not in answers:
                seen = ", ".join(answers) or "no answer"
                wrong.append(f"{record.name} {record.type} answers {seen} (want {record.new})")
        done = len(plan.dns) - len(wrong)
        line = (
            f"{done} of {len(plan.dns)} records point at the target (resolver {resolver.address})"
        )
        if line != last:
            ctx.log(line)
            last = line
        if not wrong:
            return
        ctx.check_pause()
        if time.monotonic() >= deadline:
            raise PhaseFailed(
                f"DNS: after {ctx.dns_timeout:g} s, {'; '.join(wrong)}; change the records "
                "at the registrar and run the migration again (it resumes here)"
            )
        await asyncio.sleep(ctx.dns_interval)


# --- 7. start -------------------------------------------------------------------------


async def start(ctx: MigrationContext) -> None:
    """Redeploy the target unheld (the apps' units wanted again), start them, health-check."""
    target = ctx.target()
    planned = target.plan(operator=ctx.operator)
    unheld = [s for s in planned.plan.steps if s.kind != "health-check"]
    ctx.log("deploying the target with the apps no longer held")
    await ctx.deploy(target, planned, unheld, slot=True)
    target = ctx.target()
    for machine in own_machines(target, ctx.operator):
        await ctx.run_on(target, machine.name, services(target, machine, ctx.operator, "start"))
    planned = target.plan(operator=ctx.operator)
    await ctx.deploy(target, planned, planned.plan.steps, slot=True)


PHASE_RUNNERS: dict[str, Callable[[MigrationContext], Awaitable[None]]] = {
    "provision": provision,
    "freeze": freeze,
    "databases": databases,
    "objects": objects,
    "fixups": fixups,
    "dns": dns,
    "start": start,
}
