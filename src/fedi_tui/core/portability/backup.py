"""`fedi-tui backup`: an operator's databases, objects, secrets and configuration, verified.

Per app instance: its PostgreSQL database (`pg_dump -Fc` streamed over SSH, never
staged on the machine), every object of its buckets (each with size and
SHA-256), its generated secrets (an owner-only file) and the rendered
configuration of its machine; then the manifest (`manifest.py`).

The backup is built in a hidden sibling directory (`.<name>.partial`) and renamed
into place only once its manifest is written: a killed or failed backup never
leaves a directory at the requested path, let alone one that looks complete.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

from fedi_tui.core.deploy.events import EventSink
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.database import Database, dump_to_file
from fedi_tui.core.portability.instances import (
    InstanceData,
    bucket_access,
    operator_instances,
)
from fedi_tui.core.portability.manifest import (
    BucketEntry,
    FileEntry,
    InstanceEntry,
    Manifest,
    ObjectEntry,
    file_entry,
    objects_dir,
    write_manifest,
)
from fedi_tui.core.portability.objects import bounded, download_objects
from fedi_tui.core.portability.run import DataRun
from fedi_tui.core.portability.secrets import collect, write_bundle
from fedi_tui.core.portability.shells import Shells
from fedi_tui.core.readonly import refuse_writes
from fedi_tui.core.workspace import Workspace


def fedi_tui_version() -> str:
    try:
        return version("fedi-tui")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def module_version(module: object) -> str:
    """Version of the distribution that provides an app module (fedi-tui's for built-ins)."""
    top = type(module).__module__.split(".")[0]
    names = packages_distributions().get(top, [])
    for name in names:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return f"fedi-tui {fedi_tui_version()}"


INSTANCES_AT_ONCE = 4
"""App instances backed up (or restored) at the same time."""
READ_ONLY_REFUSAL = "take a backup (it copies the operator's secrets)"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    run: str


async def backup(
    ws: Workspace,
    ports: Ports,
    operator: str,
    target: Path | None = None,
    *,
    sinks: Sequence[EventSink] = (),
) -> BackupResult:
    refuse_writes(READ_ONLY_REFUSAL)
    instances = operator_instances(ws, operator)
    now = datetime.now(UTC)
    if target is None:
        target = ws.state_dir / "backups" / f"{operator}-{now:%Y%m%dT%H%M%SZ}"
    target = target.absolute()
    if target.exists():
        raise FediError(f"{target} exists already: give another --to, or remove it first")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # what an interrupted backup left
    partial.mkdir(parents=True, mode=0o700)
    store = SecretStore(ws.state_dir)
    machines = tuple(sorted({i.machine.name for i in instances}))
    summary = f"backup of {operator}: {len(instances)} app instances to {target}"
    shells = Shells(ws, ports)
    try:
        with DataRun(ws, "backup", sinks, summary=summary, machines=machines) as run:
            entries = await bounded(  # app instances side by side; each in its order
                instances,
                lambda inst: _instance(run, ws, ports, shells, store, inst, partial),
                INSTANCES_AT_ONCE,
            )
            entries.sort(key=lambda e: e.key)
            config = await _configuration(run, ws, machines, partial)
            manifest = Manifest(
                fedi_tui_version=fedi_tui_version(),
                operator=operator,
                created=now.isoformat(timespec="seconds"),
                state_file=str(ws.path),
                instances=tuple(entries),
                configuration=tuple(config),
            )
            write_manifest(partial, manifest)
            partial.replace(target)
            async with run.step("manifest", None, f"backup complete in {target}") as s:
                s.log(f"manifest written: {len(entries)} app instances, {len(config)} files")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        await shells.close()
        await ports.close()
    return BackupResult(target, manifest, run.id)


async def _instance(
    run: DataRun,
    ws: Workspace,
    ports: Ports,
    shells: Shells,
    store: SecretStore,
    inst: InstanceData,
    root: Path,
) -> InstanceEntry:
    machine = inst.machine.name
    dump: FileEntry | None = None
    if inst.database is not None:
        what = f"{inst.key}: database {inst.database} (pg_dump on {machine})"
        async with run.step(f"dump:{inst.key}", machine, what) as s:
            shell = await shells.get(machine)
            path = root / inst.key / "database.dump"
            meter = s.meter("database", inst.database)
            db = Database(shell, inst.database, inst.deploy.database_command)
            moved = await dump_to_file(db, path, meter, on_line=s.line_sink())
            meter.finish()
            dump = FileEntry(
                path=path.relative_to(root).as_posix(), size=moved.size, sha256=moved.sha256
            )
    buckets = []
    for bucket in inst.buckets:
        async with run.step(
            f"objects:{bucket.name}", None, f"{inst.key}: objects of bucket {bucket.name}"
        ) as s:
            access = bucket_access(ws, store, bucket)
            source = ports.objects(bucket.storage).bucket(
                bucket.name, access.access_key_id, access.secret
            )
            meter = s.meter("objects", bucket.name)
            stored = await download_objects(source, objects_dir(root, bucket.name), meter=meter)
            meter.finish()
            buckets.append(
                BucketEntry(
                    name=bucket.name,
                    storage=bucket.storage,
                    objects=tuple(ObjectEntry(**vars(o)) for o in stored),
                )
            )
    async with run.step(f"secrets:{inst.key}", None, f"{inst.key}: its secrets") as s:
        key_ids = {name: k.access_key_id for name, k in ws.recorded.keys.items()}
        bundle = collect(store, inst, key_ids)
        path = root / inst.key / "secrets.json"
        write_bundle(path, bundle)
        secrets = file_entry(root, path)
        meter = s.meter("secrets", inst.key)
        meter.add(secrets.size, len(bundle.files) + len(bundle.keys))
        meter.finish()
        s.log(f"secret files: {len(bundle.files)}, storage key secrets: {len(bundle.keys)} (0600)")
    return InstanceEntry(
        key=inst.key,
        app=inst.instance.module.name,
        app_module_version=module_version(inst.instance.module),
        machine=machine,
        database=inst.database,
        dump=dump,
        buckets=tuple(buckets),
        secrets=secrets,
    )


async def _configuration(
    run: DataRun, ws: Workspace, machines: Sequence[str], root: Path
) -> list[FileEntry]:
    entries: list[FileEntry] = []
    for machine in machines:
        async with run.step(
            f"configuration:{machine}", machine, f"rendered configuration of {machine}"
        ) as s:
            rendered = ws.rendered[machine]
            meter = s.meter("configuration", machine)
            for rel, text in sorted(rendered.files.items()):
                path = root / "configuration" / machine / rel
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.write_text(text, encoding="utf-8")
                path.chmod(0o600)
                entries.append(file_entry(root, path))
                meter.add(entries[-1].size, 1)
            meter.finish()
            s.log(f"{len(rendered.files)} files (configuration {rendered.hash[:12]})")
    return entries
