"""The migration record: where one operator's migration stands, written after every step.

    <state dir>/migrations/<operator>.json      this record (owner-only, atomic)
    <state dir>/migrations/<operator>/          the target "slot": recorded.json and
                                                secrets/ of what was built on the target

While an operator migrates, fedi.toml still names its source runtime and
storage: the source keeps serving and every other command sees it as before.
The target placement is the same operator mapped onto the target runtime and
storage (and the new domain, if any), planned and recorded apart in the slot,
so the source's records and secrets are never touched. `--finish` removes the
source through the engine, moves the slot's records and S3 key secrets into
the state directory's own, and switches the operator's `runtime`/`storage`
(and `domain`) in fedi.toml; `--abort` starts the source again and removes the
target. A phase is recorded as running before it starts and as done after it,
together with the steps inside it that are done, so a killed run resumes at
the phase and step where it stopped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.errors import FediError

SCHEMA = 1
DIR = "migrations"

PhaseName = Literal["provision", "freeze", "databases", "objects", "fixups", "dns", "start"]
PHASES: tuple[PhaseName, ...] = (
    "provision",
    "freeze",
    "databases",
    "objects",
    "fixups",
    "dns",
    "start",
)
TITLES: dict[str, str] = {
    "provision": "provision and deploy the apps on the target, services kept stopped",
    "freeze": "freeze the source: stop its app services (its data is never changed)",
    "databases": "databases: dump on the source, restore on the target",
    "objects": "objects: copy every object to the target bucket, verified",
    "fixups": "fix-ups: the same secrets on the target; host change for a new domain",
    "dns": "DNS: change the records at the registrar, verified with the resolver",
    "start": "start the apps on the target and health-check them",
    "finish": "finish: decommission the source, switch fedi.toml to the target",
    "abort": "abort: start the source again, remove the target",
}
PhaseState = Literal["pending", "running", "done", "failed"]
Status = Literal["running", "migrated", "finished", "aborted"]
"""running: phases left; migrated: every phase done, the target serves (`--finish` next)."""


class Place(BaseModel):
    """Where an operator runs: a runtime, a storage and its domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runtime: str
    storage: str
    domain: str


class PhaseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: PhaseState = "pending"
    message: str = ""
    steps_done: tuple[str, ...] = ()
    """Steps of the phase that are done (a database, a bucket, a host change)."""
    started: float | None = None
    finished: float | None = None


class MigrationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: int = Field(default=SCHEMA, alias="schema")
    operator: str
    source: Place
    target: Place
    status: Status = "running"
    resolver: str | None = None
    """`ADDR:PORT` of the resolver the DNS phase asks."""
    user: str = ""
    started: float = Field(default_factory=time.time)
    phases: dict[str, PhaseRecord] = Field(
        default_factory=lambda: {str(name): PhaseRecord() for name in PHASES}
    )

    def phase(self, name: str) -> PhaseRecord:
        return self.phases.get(name, PhaseRecord())

    def with_phase(self, name: str, **update: object) -> MigrationRecord:
        phases = dict(self.phases)
        phases[name] = self.phase(name).model_copy(update=update)
        return self.model_copy(update={"phases": phases})

    def step_done(self, name: str, step: str) -> MigrationRecord:
        done = self.phase(name).steps_done
        return self if step in done else self.with_phase(name, steps_done=(*done, step))

    def next_phase(self) -> str | None:
        return next((p for p in PHASES if self.phase(p).state != "done"), None)

    @property
    def domain_changes(self) -> bool:
        return self.source.domain != self.target.domain


def record_path(state_dir: Path, operator: str) -> Path:
    return state_dir / DIR / f"{operator}.json"


def slot_dir(state_dir: Path, operator: str) -> Path:
    """Where the target's recorded state and secrets live until `--finish`."""
    return state_dir / DIR / operator


def load_migration(state_dir: Path, operator: str) -> MigrationRecord | None:
    path = record_path(state_dir, operator)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        version = data.get("schema") if isinstance(data, dict) else None
        if isinstance(version, int) and version > SCHEMA:
            raise FediError(
                f"{path}: migration record schema {data['schema']} is newer "
                "than this fedi-tui; upgrade"
            )
        return MigrationRecord.model_validate(data)
    except json.JSONDecodeError as exc:
        raise FediError(
            f"{path}:{exc.lineno}:{exc.colno}: the migration record is not valid JSON "
            f"({exc.msg}); it is written only by fedi-tui — restore it from a backup"
        ) from None
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        key = ".".join(str(p) for p in first["loc"])
        raise FediError(f"{path}: {key}: {first['msg']}; restore it from a backup") from None


def save_migration(state_dir: Path, record: MigrationRecord) -> None:
    path = record_path(state_dir, record.operator)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(record.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True)
    write_atomic(path, (text + "\n").encode("utf-8"), mode=0o600)


def active_migrations(state_dir: Path) -> list[MigrationRecord]:
    """Every migration not finished nor aborted, by operator."""
    directory = state_dir / DIR
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.json")):
        record = load_migration(state_dir, path.stem)
        if record is not None and record.status in ("running", "migrated"):
            out.append(record)
    return out
