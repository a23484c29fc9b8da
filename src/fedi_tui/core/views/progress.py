"""A running (or finished) deployment as the progress table shows it: one row per machine.

Derived only from the engine's events (the same stream the CLI prints and the
log file keeps), so a run followed live and a run read back from its log give
the same rows. `RunProgress.feed` takes events in order; rows ask a clock for
the elapsed time of a machine still running.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from fedi_tui.core.deploy.events import (
    Event,
    LogLine,
    MachineFinished,
    MachineState,
    RunFinished,
    RunOutcome,
    RunStarted,
    StepFinished,
    StepPhase,
    StepStarted,
)
from fedi_tui.core.deploy.lanes import lanes_of
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.steps import HANDLERS
from fedi_tui.core.deploy.steps.base import Target
from fedi_tui.core.text import visible_line

ENDED: frozenset[MachineState] = frozenset(
    {"done", "failed", "rolled-back", "skipped", "interrupted"}
)
LABELS: dict[MachineState, str] = {
    "rolled-back": "rolled back",
    "interrupted": "cancelled",
    "preflight": "building",
}
"""How a state reads in the table (the engine's word otherwise)."""


def expected_steps(
    steps: Sequence[Step], desired: Target, recorded: RecordedState
) -> dict[str, frozenset[str]]:
    """Machine → the ids of the steps its lane runs (as the engine groups them)."""
    return {
        lane.machine: frozenset(s.id for s in lane.steps)
        for lane in lanes_of(steps, desired, recorded)
        if lane.machine is not None
    }


def state_label(state: MachineState) -> str:
    return LABELS.get(state, state)


def _state_of_step(step_id: str) -> MachineState | None:
    kind = cast(StepKind, step_id.split(":", 1)[0])
    handler = HANDLERS.get(kind)
    return handler.state if handler is not None else None


@dataclass
class MachineProgress:
    """One machine of the run."""

    name: str
    state: MachineState = "waiting"
    started: float | None = None
    """When its first step started (event time)."""
    finished: float | None = None
    last_line: str = ""
    """The last thing said about it (a log line, a step starting, a phase), one line."""
    config_hash: str | None = None
    message: str = ""
    outcomes: dict[str, str] = field(default_factory=dict)
    """How each of its finished steps ended, by step id."""

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def elapsed(self, now: float) -> float | None:
        """Seconds since its first step started (until it ended); None before."""
        if self.started is None:
            return None
        return max(0.0, (self.finished if self.finished is not None else now) - self.started)


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{seconds:.1f} s"


@dataclass
class RunProgress:
    """Every machine's row, the overall count and the outcome once the run ended."""

    deployment: str = ""
    user: str = ""
    summary: str = ""
    started: float | None = None
    finished: float | None = None
    outcome: RunOutcome | None = None
    message: str = ""
    steps_total: int = 0
    steps_finished: int = 0
    machines: dict[str, MachineProgress] = field(default_factory=dict)
    expected: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Machine → the ids of the steps in its lane, when known (a run started here):
    a machine is shown done once they all finished, not only when the run ends."""

    @classmethod
    def of(
        cls, events: Iterable[Event], expected: Mapping[str, frozenset[str]] | None = None
    ) -> RunProgress:
        expected = expected or {}
        progress = cls(machines={n: MachineProgress(n) for n in expected}, expected=expected)
        progress.feed(events)
        return progress

    @property
    def running(self) -> bool:
        return self.started is not None and self.outcome is None

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            self._one(event)

    def _machine(self, name: str) -> MachineProgress:
        row = self.machines.get(name)
        if row is None:
            row = self.machines[name] = MachineProgress(name)
        return row

    def _one(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.deployment, self.user, self.summary = event.deployment, event.user, event.summary
            self.started, self.steps_total = event.at, event.steps
            for machine in event.machines:
                self._machine(machine)
            return
        if isinstance(event, RunFinished):
            self.finished, self.outcome, self.message = event.at, event.outcome, event.message
            return
        if isinstance(event, StepFinished):
            self.steps_finished += 1
        name = event.machine
        if name is None:
            return
        row = self._machine(name)
        if isinstance(event, MachineFinished):
            row.state, row.finished = event.state, event.at
            row.config_hash, row.message = event.config_hash, event.message
            if event.message:
                row.last_line = visible_line(event.message)
            return
        if row.ended:
            return
        if isinstance(event, StepStarted):
            row.started = row.started if row.started is not None else event.at
            row.state = _state_of_step(event.step) or row.state
            row.last_line = visible_line(event.description)
        elif isinstance(event, StepPhase):
            row.state = event.state
            row.last_line = visible_line(event.phase)
        elif isinstance(event, LogLine) and event.text.strip():
            row.last_line = visible_line(event.text)
        elif isinstance(event, StepFinished):
            self._step_finished(row, event)

    def _step_finished(self, row: MachineProgress, event: StepFinished) -> None:
        if event.outcome != "done":
            row.last_line = visible_line(event.message or f"{event.step} {event.outcome}")
        if event.outcome == "failed":
            row.state = "failed"
        elif event.outcome in ("rolled-back", "lost-contact"):
            row.state = "rolled-back"
        elif event.outcome == "interrupted" and row.state not in ENDED:
            row.state = "interrupted"
        row.outcomes[event.step] = event.outcome
        expected = self.expected.get(row.name)
        if expected and expected <= row.outcomes.keys() and row.state not in ENDED:
            # its lane is through (the engine says so for every machine only at the end)
            if all(row.outcomes[s] in ("done", "preflight-ok") for s in expected):
                row.state = "done"
            else:
                row.state = "skipped"
            row.finished = event.at

    @property
    def fraction(self) -> float:
        """How far the run is, 0…1, by finished steps (1 once it ended)."""
        if self.outcome is not None:
            return 1.0
        if not self.steps_total:
            return 0.0
        return min(1.0, self.steps_finished / self.steps_total)
