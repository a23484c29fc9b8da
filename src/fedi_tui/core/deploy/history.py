"""Deployment history: one JSON-lines log per run, and an index of every run.

    <state dir>/deployments/<id>.jsonl   every event of the run, one per line
    <state dir>/deployments/index.json   who ran it, when, the plan summary, each
                                         machine's outcome and configuration hash

Both are written only by the process running the deployment (under the
deploy lock); anyone may read them, including a `logs --follow` in another
process while the run goes on.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.deploy.events import (
    Event,
    MachineFinished,
    MachineState,
    RunFinished,
    RunStarted,
    event_from_json,
)
from fedi_tui.core.errors import FediError

DIR = "deployments"
INDEX = "index.json"


def new_deployment_id(now: float | None = None) -> str:
    """`20261201T221841Z-3f9a`: sortable by time, unique enough for one provider."""
    stamp = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return f"{stamp:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def deployments_dir(state_dir: Path) -> Path:
    return state_dir / DIR


def log_path(state_dir: Path, deployment: str) -> Path:
    return deployments_dir(state_dir) / f"{deployment}.jsonl"


class MachineRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: MachineState
    config_hash: str | None = None
    message: str = ""


class DeploymentRecord(BaseModel):
    """One run in the index."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    user: str
    state_file: str
    started: float
    finished: float | None = None
    outcome: Literal["running", "succeeded", "failed", "rolled-back", "interrupted", "preflight-ok"]
    summary: str
    pid: int = 0
    kind: str = "apply"
    machines: dict[str, MachineRun] = Field(default_factory=dict)


class HistoryIndex(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: int = Field(default=1, alias="schema")
    deployments: tuple[DeploymentRecord, ...] = ()


def load_index(state_dir: Path) -> HistoryIndex:
    path = deployments_dir(state_dir) / INDEX
    try:
        return HistoryIndex.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return HistoryIndex()
    except (OSError, ValidationError, ValueError) as exc:
        raise FediError(f"{path}: cannot read the deployment history ({exc})") from None


def _save_index(state_dir: Path, index: HistoryIndex) -> None:
    path = deployments_dir(state_dir) / INDEX
    text = index.model_dump_json(by_alias=True, indent=1) + "\n"
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def find_deployment(state_dir: Path, wanted: str) -> DeploymentRecord:
    """A run by id, id prefix or `last`."""
    runs = load_index(state_dir).deployments
    if not runs:
        raise FediError(f"no deployments recorded in {deployments_dir(state_dir)} yet")
    if wanted == "last":
        return runs[-1]
    matches = [r for r in runs if r.id == wanted] or [r for r in runs if r.id.startswith(wanted)]
    if len(matches) != 1:
        hint = "several match" if matches else "none matches"
        raise FediError(
            f"deployment {wanted!r}: {hint}; `fedi-tui history` lists them (or use 'last')"
        )
    return matches[0]


class HistoryWriter:
    """The log-file consumer of a run's events; keeps the index current at start and end."""

    def __init__(self, state_dir: Path, deployment: str, *, kind: str = "apply") -> None:
        self.state_dir = state_dir
        self.deployment = deployment
        self.kind = kind
        directory = deployments_dir(state_dir)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = log_path(state_dir, deployment)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._file: IO[str] = os.fdopen(fd, "w", encoding="utf-8")
        self._record: DeploymentRecord | None = None

    def __call__(self, event: Event) -> None:
        self._file.write(event.to_json() + "\n")
        self._file.flush()
        if isinstance(event, RunStarted):
            self._record = DeploymentRecord(
                id=event.deployment,
                user=event.user,
                state_file=event.state_file,
                started=event.at,
                outcome="running",
                summary=event.summary,
                pid=event.pid,
                kind=self.kind,
            )
            self._update()
        elif isinstance(event, MachineFinished) and self._record is not None:
            machines = dict(self._record.machines)
            machines[event.name] = MachineRun(
                state=event.state, config_hash=event.config_hash, message=event.message
            )
            self._record = self._record.model_copy(update={"machines": machines})
        elif isinstance(event, RunFinished) and self._record is not None:
            self._record = self._record.model_copy(
                update={"finished": event.at, "outcome": event.outcome}
            )
            self._update()

    def _update(self) -> None:
        assert self._record is not None
        index = load_index(self.state_dir)
        others = tuple(r for r in index.deployments if r.id != self._record.id)
        _save_index(
            self.state_dir, index.model_copy(update={"deployments": (*others, self._record)})
        )

    def close(self) -> None:
        os.fsync(self._file.fileno())
        self._file.close()


def process_alive(pid: int) -> bool:
    """Whether the process that writes a log (RunStarted.pid) still runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's run: it exists
        return True
    return True


def read_log(path: Path) -> Iterator[Event]:
    """Every event of a finished (or running) deployment's log."""
    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.endswith("\n"):
                    yield _parse(path, n, line)
    except FileNotFoundError:
        raise FediError(f"{path}: no such deployment log") from None


def _parse(path: Path, n: int, line: str) -> Event:
    try:
        return event_from_json(line)
    except (ValueError, TypeError) as exc:
        raise FediError(f"{path}:{n}: not a deployment event ({exc})") from None
