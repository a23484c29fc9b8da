"""What the migration screen shows: the phases with their state and latest progress.

`MigrationProgress.of(record)` starts from the migration record (what earlier
runs did); `feed(events)` follows a running one through the one event stream
(`phase:<name>` steps, their log lines and transfer progress). `targets()`
lists where an operator may move to. No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fedi_tui.core.deploy.events import (
    Event,
    LogLine,
    RunFinished,
    StepFinished,
    StepStarted,
    TransferProgress,
)
from fedi_tui.core.migrate.record import PHASES, TITLES, MigrationRecord
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.text import visible_line

_STATE_OF_OUTCOME = {"done": "done", "failed": "failed", "interrupted": "paused"}
MARKS = {"done": "✓", "running": "…", "failed": "✗", "paused": "‖", "pending": " "}


@dataclass
class PhaseRow:
    number: int
    name: str
    title: str
    state: str
    detail: str = ""

    @property
    def mark(self) -> str:
        return MARKS.get(self.state, "?")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def transfer_line(event: TransferProgress) -> str:
    """'coop-mastodon: 12/40 objects, 3.1 MB (1.2 MB/s)'."""
    count = (
        f"{event.objects}/{event.total_objects} objects, "
        if event.part == "objects" and event.total_objects
        else ""
    )
    rate = f" ({_size(event.bytes_per_second)}/s)" if event.seconds else ""
    skipped = f", {event.skipped} verified before" if event.skipped else ""
    return f"{event.what}: {count}{_size(event.bytes)}{rate}{skipped}"


@dataclass
class MigrationProgress:
    operator: str
    rows: list[PhaseRow]
    status: str
    outcome: str | None = None
    message: str = ""
    deployment: str | None = None
    extra: dict[str, PhaseRow] = field(default_factory=dict)
    """finish / abort, once one of them ran."""

    @classmethod
    def of(cls, record: MigrationRecord) -> MigrationProgress:
        rows = []
        for n, name in enumerate(PHASES, 1):
            phase = record.phase(name)
            state = "paused" if phase.message in ("paused", "interrupted") else phase.state
            rows.append(PhaseRow(n, name, TITLES[name], state, visible_line(phase.message)))
        return cls(record.operator, rows, record.status)

    @classmethod
    def none_yet(cls, operator: str) -> MigrationProgress:
        """The phases a migration of `operator` would run (none ran yet)."""
        rows = [PhaseRow(n, name, TITLES[name], "pending") for n, name in enumerate(PHASES, 1)]
        return cls(operator, rows, "not started")

    def row(self, name: str) -> PhaseRow | None:
        found = next((r for r in self.rows if r.name == name), None)
        if found is None and name in ("finish", "abort"):
            found = self.extra.setdefault(name, PhaseRow(8, name, TITLES[name], "pending"))
        return found

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, RunFinished):
                self.outcome, self.message = event.outcome, event.message
                continue
            step = getattr(event, "step", "")
            if not isinstance(step, str) or not step.startswith("phase:"):
                continue
            row = self.row(step.removeprefix("phase:"))
            if row is None:
                continue
            self.deployment = event.deployment
            if isinstance(event, StepStarted):
                row.state, row.detail = "running", ""
            elif isinstance(event, StepFinished):
                row.state = _STATE_OF_OUTCOME.get(event.outcome, event.outcome)
                row.detail = event.message or f"in {event.seconds:.1f} s"
            elif isinstance(event, TransferProgress):
                row.detail = transfer_line(event)
            elif isinstance(event, LogLine) and not event.text.startswith("| "):
                row.detail = event.text.strip()

    @property
    def all_rows(self) -> list[PhaseRow]:
        return [*self.rows, *self.extra.values()]


@dataclass(frozen=True)
class Targets:
    runtimes: tuple[str, ...]
    storage: tuple[str, ...]


def targets(spec: StateSpec, operator: str) -> Targets:
    """The runtimes and storage an operator can move to (not the ones it is on)."""
    op = spec.operators[operator]
    return Targets(
        tuple(name for name in spec.runtimes if name != op.runtime),
        tuple(name for name in spec.storage if name != op.storage),
    )
