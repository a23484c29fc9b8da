"""Recorded state: what fedi-tui actually did. Written only by fedi-tui, atomically.

It lives in the state directory (`.fedi/recorded.json` by default). Effects are
recorded one by one as the apply engine completes steps (a VM created, a
config activated, …), so a crashed apply is resumed by planning again: the
plan then holds only what is still missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.errors import FediError
from fedi_tui.core.readonly import refuse_writes

RECORDED_SCHEMA = 1
FILE_NAME = "recorded.json"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MachineRecord(Record):
    """A machine fedi-tui provisioned (or a NixOS host it configured)."""

    runtime: str
    kind: Literal["proxmox", "nixos"]
    operators: tuple[str, ...] = ()
    """Operators whose apps run on it."""
    node: str | None = None
    vmid: int | None = None
    address: str | None = None
    cores: int = 0
    memory_gib: int = 0
    disk_gib: int = 0
    config_hash: str | None = None
    """Hash of the rendered configuration last activated; None until the first activation."""
    configuration: str | None = None
    """The configuration.nix last activated, for diffs."""
    files: dict[str, str] = Field(default_factory=dict)
    """Manifest of the last activated configuration: relative path → sha256."""
    healthy: bool = False
    """The health check after the last activation passed."""
    host_key: str | None = None
    """The machine's SSH host key as read through the hypervisor's guest agent (pinned)."""
    ready: bool = True
    """False for a VM whose creation failed half-way: the next plan creates it again
    (creation finds it by its tags and finishes it)."""


class BucketRecord(Record):
    storage: str
    operator: str
    bucket_id: str | None = None
    quota_gib: int = 0
    public: bool = False
    created: bool = False
    """fedi-tui created it (only such a bucket is ever deleted, and only with --prune-data)."""


class KeyRecord(Record):
    storage: str
    operator: str
    bucket: str
    access_key_id: str | None = None
    """The S3 access key id (not secret); the secret key is kept only in the secrets dir."""


class RecordedState(Record):
    schema_: int = Field(default=RECORDED_SCHEMA, alias="schema")
    machines: dict[str, MachineRecord] = Field(default_factory=dict)
    buckets: dict[str, BucketRecord] = Field(default_factory=dict)
    keys: dict[str, KeyRecord] = Field(default_factory=dict)
    secrets: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Instance key (`<operator>-<app>`) → names of the secret files generated for it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def only_operator(self, operator: str) -> RecordedState:
        """What was recorded for one operator (machines it shares with others included)."""
        return self.model_copy(
            update={
                "machines": {k: m for k, m in self.machines.items() if operator in m.operators},
                "buckets": {k: b for k, b in self.buckets.items() if b.operator == operator},
                "keys": {k: v for k, v in self.keys.items() if v.operator == operator},
                "secrets": {k: v for k, v in self.secrets.items() if k.startswith(f"{operator}-")},
            }
        )

    def used_addresses(self) -> set[str]:
        return {m.address for m in self.machines.values() if m.address}

    def used_vmids(self) -> set[int]:
        return {m.vmid for m in self.machines.values() if m.vmid is not None}


def load_recorded(state_dir: Path) -> RecordedState:
    """The recorded state, or an empty one when nothing was done yet."""
    path = state_dir / FILE_NAME
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RecordedState()
    return parse_recorded(raw, path)


def parse_recorded(raw: str, where: Path | str) -> RecordedState:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FediError(
            f"{where}:{exc.lineno}:{exc.colno}: recorded state is not valid JSON ({exc.msg}); "
            "it is written only by fedi-tui — restore it from a backup"
        ) from None
    version = data.get("schema") if isinstance(data, dict) else None
    if isinstance(version, int) and version > RECORDED_SCHEMA:
        raise FediError(
            f"{where}: recorded state schema {version} is newer than this fedi-tui; upgrade"
        )
    try:
        return RecordedState.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        key = ".".join(str(p) for p in first["loc"])
        raise FediError(f"{where}: {key}: {first['msg']}; restore it from a backup") from None


def dump_recorded(recorded: RecordedState) -> str:
    return (
        json.dumps(recorded.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True) + "\n"
    )


def save_recorded(state_dir: Path, recorded: RecordedState) -> None:
    refuse_writes(f"write the recorded state in {state_dir}")
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(state_dir / FILE_NAME, dump_recorded(recorded).encode("utf-8"), mode=0o600)
