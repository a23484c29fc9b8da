"""A backup's manifest: what it holds, with a SHA-256 per file and per object, checked first.

    <backup>/manifest.json                    written last: a backup without it is not one
    <backup>/<instance>/database.dump         pg_dump -Fc
    <backup>/<instance>/secrets.json          the instance's secrets (0600)
    <backup>/objects/<bucket>/<aa>/<sha256>   each object, by content
    <backup>/configuration/<machine>/…        the rendered configuration

`verify_backup` re-reads every file and object and compares size and SHA-256 with
the manifest before a restore touches anything.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.database import file_digest
from fedi_tui.core.portability.objects import StoredObject, stored_path

FORMAT = 1
MANIFEST = "manifest.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Model):
    path: str
    """Relative to the backup directory, with '/'."""
    size: int
    sha256: str


class ObjectEntry(_Model):
    key: str
    size: int
    sha256: str
    md5: str


class BucketEntry(_Model):
    name: str
    storage: str
    objects: tuple[ObjectEntry, ...] = ()

    @property
    def bytes(self) -> int:
        return sum(o.size for o in self.objects)


class InstanceEntry(_Model):
    key: str
    app: str
    app_module_version: str
    """Version of the package that provides the app module."""
    machine: str
    database: str | None = None
    dump: FileEntry | None = None
    buckets: tuple[BucketEntry, ...] = ()
    secrets: FileEntry | None = None


class Manifest(_Model):
    format: int = FORMAT
    fedi_tui_version: str
    operator: str
    created: str
    """ISO 8601, UTC."""
    state_file: str
    instances: tuple[InstanceEntry, ...]
    configuration: tuple[FileEntry, ...] = ()
    complete: bool = Field(default=True)

    def instance(self, key: str) -> InstanceEntry | None:
        return next((i for i in self.instances if i.key == key), None)


def objects_dir(backup: Path, bucket: str) -> Path:
    return backup / "objects" / bucket


def stored_objects(bucket: BucketEntry) -> list[StoredObject]:
    return [StoredObject(o.key, o.size, o.sha256, o.md5) for o in bucket.objects]


def file_entry(backup: Path, path: Path) -> FileEntry:
    moved = file_digest(path)
    return FileEntry(path=path.relative_to(backup).as_posix(), size=moved.size, sha256=moved.sha256)


def write_manifest(backup: Path, manifest: Manifest) -> None:
    text = manifest.model_dump_json(indent=1) + "\n"
    write_atomic(backup / MANIFEST, text.encode("utf-8"), mode=0o600)


def read_manifest(backup: Path) -> Manifest:
    path = backup / MANIFEST
    if not backup.is_dir():
        raise FediError(f"{backup}: no such backup directory")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise FediError(
            f"{backup}: no {MANIFEST}, so this is not a complete backup (an interrupted "
            "backup never gets one); take a new backup"
        ) from None
    except (OSError, ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise FediError(f"{path}: not a fedi-tui backup manifest ({first})") from None
    if manifest.format != FORMAT:
        raise FediError(f"{path}: backup format {manifest.format}; this fedi-tui reads {FORMAT}")
    return manifest


def _inside(backup: Path, relative: str) -> Path:
    if relative.startswith("/") or ".." in posixpath.normpath(relative).split("/"):
        raise FediError(f"{backup / MANIFEST}: {relative!r} points outside the backup")
    return backup / relative


def verify_backup(backup: Path) -> Manifest:
    """Read the manifest and check every file and object it lists (FediError listing what
    does not match: nothing may be restored from such a backup)."""
    manifest = read_manifest(backup)
    problems: list[str] = []
    files = list(manifest.configuration)
    for inst in manifest.instances:
        files += [f for f in (inst.dump, inst.secrets) if f is not None]
    for entry in files:
        path = _inside(backup, entry.path)
        try:
            got = file_digest(path)
        except OSError as exc:
            problems.append(f"{entry.path}: cannot read it ({exc.strerror or exc})")
            continue
        if (got.size, got.sha256) != (entry.size, entry.sha256):
            problems.append(f"{entry.path}: checksum does not match the manifest")
    for inst in manifest.instances:
        for bucket in inst.buckets:
            directory = objects_dir(backup, bucket.name)
            for obj in bucket.objects:
                path = stored_path(directory, obj.sha256)
                try:
                    got = file_digest(path)
                except OSError:
                    problems.append(f"bucket {bucket.name}: object {obj.key!r} is missing")
                    continue
                if (got.size, got.sha256) != (obj.size, obj.sha256):
                    problems.append(
                        f"bucket {bucket.name}: object {obj.key!r} does not match its checksum"
                    )
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise FediError(
            f"{backup}: the backup does not match its manifest, so nothing was restored "
            f"({len(problems)} problems):\n{shown}{more}"
        )
    return manifest
