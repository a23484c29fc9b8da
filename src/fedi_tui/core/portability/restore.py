"""`fedi-tui restore`: a backup back into the operator's current deployment.

1. every checksum of the backup is verified first (`verify_backup`): a backup that
   does not match its manifest is refused before anything is touched — no
   machine is contacted, no file of the state directory is written;
2. every machine is logged in to (an unreachable one stops the restore here);
3. per app instance: its units are stopped, its secrets are put back (state
   directory, then the machine's secrets directory, root-only), its database is
   re-created from the dump (`pg_restore --clean --create`), its objects are put
   back (each with Content-MD5; objects not in the backup are kept);
4. the units are started again and the apps' health checks must pass (retried
   for `deploy.health_timeout`).

When a step fails, the apps it stopped stay stopped (their data is half
restored) and the error says to run the restore again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fedi_tui.core.deploy.events import EventSink
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.push import SECRET_MODE, machine_secret_tree
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability import services
from fedi_tui.core.portability.backup import INSTANCES_AT_ONCE
from fedi_tui.core.portability.database import Database, restore_from_file
from fedi_tui.core.portability.instances import InstanceData, bucket_access, operator_instances
from fedi_tui.core.portability.manifest import (
    InstanceEntry,
    Manifest,
    objects_dir,
    stored_objects,
    verify_backup,
)
from fedi_tui.core.portability.objects import bounded, upload_objects
from fedi_tui.core.portability.run import DataRun
from fedi_tui.core.portability.secrets import read_bundle, restore_bundle
from fedi_tui.core.portability.shells import Shells
from fedi_tui.core.workspace import Workspace


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    run: str
    instances: tuple[str, ...]


def check_backup(
    ws: Workspace, operator: str, source: Path
) -> tuple[Manifest, list[tuple[InstanceData, InstanceEntry]]]:
    """Verify the backup and match it to the operator's current deployment (no side effect)."""
    manifest = verify_backup(source)
    if manifest.operator != operator:
        raise FediError(
            f"{source}: a backup of operator {manifest.operator}, not of {operator}; "
            f"restore it with --operator {manifest.operator}"
        )
    current = {i.key: i for i in operator_instances(ws, operator)}
    missing = [e.key for e in manifest.instances if e.key not in current]
    if missing:
        raise FediError(
            f"{source}: the backup holds {', '.join(missing)}, which operator {operator} does "
            "not run now; enable those apps and apply first, then restore"
        )
    pairs = [(current[e.key], e) for e in manifest.instances]
    for inst, entry in pairs:
        if entry.database is not None and entry.database != inst.database:
            raise FediError(
                f"{source}: {inst.key}: the backup's database is {entry.database}, the app now "
                f"uses {inst.database}; restore with the fedi-tui that made the backup"
            )
    return manifest, pairs


async def restore(
    ws: Workspace,
    ports: Ports,
    operator: str,
    source: Path,
    *,
    sinks: Sequence[EventSink] = (),
) -> RestoreResult:
    source = source.absolute()
    manifest, pairs = check_backup(ws, operator, source)
    store = SecretStore(ws.state_dir)
    machines = tuple(sorted({inst.machine.name for inst, _ in pairs}))
    summary = f"restore of {operator} from {source}: {len(pairs)} app instances"
    shells = Shells(ws, ports)
    try:
        with DataRun(ws, "restore", sinks, summary=summary, machines=machines) as run:
            async with run.step("connect", None, f"logging in to {', '.join(machines)}") as s:
                for machine in machines:
                    await shells.get(machine)
                s.log(f"verified {len(pairs)} app instances of the backup against its manifest")
            for inst, _entry in pairs:
                await _units(run, shells, inst, "stop")
            for inst, entry in pairs:
                async with run.step(
                    f"secrets:{inst.key}", inst.machine.name, f"{inst.key}: secrets"
                ) as s:
                    if entry.secrets is not None:
                        bundle = read_bundle(source / entry.secrets.path)
                        run.remember_secret(*bundle.values())
                        key_ids = {n: k.access_key_id for n, k in ws.recorded.keys.items()}
                        for note in restore_bundle(store, inst, bundle, key_ids):
                            s.log(note, "stderr")
                        meter = s.meter("secrets", inst.key)
                        meter.add(entry.secrets.size, len(bundle.files) + len(bundle.keys))
                        meter.finish()
                        s.log(
                            f"secret files: {len(bundle.files)}, "
                            f"storage key secrets: {len(bundle.keys)}"
                        )
            for machine in machines:
                target = next(i.machine for i, _ in pairs if i.machine.name == machine)
                deploy = next(i.deploy for i, _ in pairs if i.machine.name == machine)
                async with run.step(
                    f"push-secrets:{machine}", machine, f"secrets to {deploy.secrets_dir}"
                ) as s:
                    shell = await shells.get(machine)
                    await shell.push_tree(
                        machine_secret_tree(store, target), deploy.secrets_dir, mode=SECRET_MODE
                    )
                    async with asyncio.timeout(deploy.command_timeout):
                        await shell.run(deploy.secrets_refresh, on_line=s.line_sink())
            try:
                await bounded(
                    pairs,
                    lambda pair: _data(run, ws, ports, shells, store, *pair, source),
                    INSTANCES_AT_ONCE,
                )
            except FediError as exc:
                stopped = ", ".join(i.key for i, _ in pairs)
                raise FediError(
                    f"{exc}\nThe services of {stopped} are left stopped, their data partly "
                    "restored: fix that and run the restore again"
                ) from None
            for inst, _entry in pairs:
                await _units(run, shells, inst, "start")
            for inst, _entry in pairs:
                await _health(run, shells, inst)
    finally:
        await shells.close()
        await ports.close()
    return RestoreResult(manifest, run.id, tuple(i.key for i, _ in pairs))


async def _units(
    run: DataRun, shells: Shells, inst: InstanceData, verb: Literal["stop", "start"]
) -> None:
    names = inst.stop_units if verb == "stop" else inst.start_units
    if not names:
        return
    machine = inst.machine.name
    async with run.step(f"{verb}:{inst.key}", machine, f"{verb} {' '.join(names)}") as s:
        await services.units(await shells.get(machine), inst, verb, s.line_sink())


async def _data(
    run: DataRun,
    ws: Workspace,
    ports: Ports,
    shells: Shells,
    store: SecretStore,
    inst: InstanceData,
    entry: InstanceEntry,
    source: Path,
) -> None:
    machine = inst.machine.name
    if entry.dump is not None and inst.database is not None:
        what = f"{inst.key}: database {inst.database} (pg_restore on {machine})"
        async with run.step(f"restore-db:{inst.key}", machine, what) as s:
            shell = await shells.get(machine)
            meter = s.meter("database", inst.database)
            meter.total_bytes = entry.dump.size
            db = Database(shell, inst.database, inst.deploy.database_command)
            await restore_from_file(
                db,
                source / entry.dump.path,
                meter,
                on_line=s.line_sink(),
                expect_sha256=entry.dump.sha256,
            )
            meter.finish()
    buckets = {b.name: b for b in inst.buckets}
    for saved in entry.buckets:
        bucket = buckets.get(saved.name)
        if bucket is None:
            raise FediError(
                f"{inst.key}: the backup has bucket {saved.name}, the app now has "
                f"{', '.join(buckets) or 'none'}"
            )
        async with run.step(
            f"restore-objects:{bucket.name}", None, f"{inst.key}: objects into {bucket.name}"
        ) as s:
            access = bucket_access(ws, store, bucket)
            target = ports.objects(bucket.storage).bucket(
                bucket.name, access.access_key_id, access.secret
            )
            meter = s.meter("objects", bucket.name)
            await upload_objects(
                stored_objects(saved), objects_dir(source, saved.name), target, meter=meter
            )
            meter.finish()


async def _health(run: DataRun, shells: Shells, inst: InstanceData) -> None:
    machine = inst.machine.name
    url = inst.instance.requirements.health_url
    async with run.step(f"health-check:{inst.key}", machine, f"{inst.key}: {url}") as s:
        await services.healthy(await shells.get(machine), inst, lambda t: s.log(t, "stderr"))
