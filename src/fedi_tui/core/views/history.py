"""Past deployments as the TUI shows them: the history list, and each operator's last run.

Read from the history index (`core.deploy.history`), which every run — from the
CLI or the TUI — keeps current from its start to its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.history import DeploymentRecord, HistoryIndex
from fedi_tui.core.text import visible_line

OUTCOME_LABELS = {"interrupted": "cancelled", "rolled-back": "rolled back"}

_WORST: tuple[MachineState, ...] = (
    "failed",
    "rolled-back",
    "interrupted",
    "skipped",
)


def when(at: float | None) -> str:
    """`2026-12-01 22:18` (UTC), or — when unknown."""
    if at is None:
        return "—"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


def day(at: float | None) -> str:
    """`12-01` (UTC): short enough for the dashboard's column; History has the rest."""
    return "—" if at is None else datetime.fromtimestamp(at, UTC).strftime("%m-%d")


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


@dataclass(frozen=True)
class MachineLine:
    name: str
    state: str
    config_hash: str
    """The first 12 characters, or — when the machine has none recorded."""
    message: str


@dataclass(frozen=True)
class HistoryRow:
    id: str
    started: str
    user: str
    outcome: str
    kind: str
    summary: str
    machines: tuple[MachineLine, ...]


def history_rows(index: HistoryIndex) -> list[HistoryRow]:
    """Newest first."""
    rows = []
    for r in reversed(index.deployments):
        machines = tuple(
            MachineLine(
                name,
                _label(m.state),
                (m.config_hash or "—")[:12],
                visible_line(m.message.splitlines()[0]) if m.message else "",
            )
            for name, m in r.machines.items()
        )
        rows.append(
            HistoryRow(
                r.id,
                when(r.started),
                visible_line(r.user),
                outcome_label(r.outcome),
                r.kind,
                visible_line(r.summary),
                machines,
            )
        )
    return rows


def last_runs(index: HistoryIndex, machines_of: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Operator → its last deployment, as the dashboard's "deployed" column says it:
    'deployed 12-01', 'failed 12-01', 'rolled back 12-01' (its day, UTC), or 'never'.

    `machines_of` gives each operator's machine names; a run counts for an operator
    when it touched one of them, and says the worst of their states in it.
    """
    out: dict[str, str] = {}
    for operator, names in machines_of.items():
        wanted = set(names)
        last: DeploymentRecord | None = None
        for run in index.deployments:
            if wanted & set(run.machines):  # a running run lists its machines when it ends
                last = run if last is None or run.started >= last.started else last
        out[operator] = _say(last, wanted) if last is not None else "never"
    return out


def _say(run: DeploymentRecord, machines: set[str]) -> str:
    states = {m.state for name, m in run.machines.items() if name in machines}
    worst = next((s for s in _WORST if s in states), None)
    word = _label(worst) if worst is not None else "deployed"
    return f"{word} {day(run.finished or run.started)}"


def _label(state: MachineState) -> str:
    # imported here: progress brings the step handlers, which the dashboard never needs
    from fedi_tui.core.views.progress import state_label

    return state_label(state)
