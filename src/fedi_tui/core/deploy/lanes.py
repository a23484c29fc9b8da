"""Lanes: the steps of one machine (or one bucket) in plan order, run one after another.

`lanes_of` groups a plan's steps by what their handlers say; `select_machine`
picks one machine's lane and everything it depends on (`apply --machine`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fedi_tui.core.deploy.events import MachineState, RunOutcome
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import MachineShell
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.steps import handler_for
from fedi_tui.core.deploy.steps.base import Target

NOT_PREFLIGHT = frozenset(
    {
        "create-vm",
        "resize-vm",
        "create-bucket",
        "set-quota",
        "create-key",
        "health-check",
        "clear-config",
        "stop-vm",
        "destroy-vm",
        "revoke-key",
        "delete-bucket",
    }
)
"""Step kinds `--preflight-only` does not run: it pushes and builds, nothing more."""
TAIL_LINES = 200
"""Output lines kept in memory per machine (the rest is in the deployment's log file)."""


@dataclass
class Lane:
    """One lane while it runs: its steps, its connection, where it is, its last lines."""

    name: str
    machine: str | None
    steps: list[Step]
    shell: MachineShell | None = None
    state: MachineState = "waiting"
    message: str = ""
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    has_slot: bool = False


def lanes_of(steps: Sequence[Step], desired: Target, recorded: RecordedState) -> list[Lane]:
    lanes: dict[str, Lane] = {}
    for step in steps:
        name = handler_for(step.kind).lane(step, desired, recorded)
        lane = lanes.get(name)
        if lane is None:
            machine = name.removeprefix("machine:") if name.startswith("machine:") else None
            lane = lanes[name] = Lane(name, machine, [])
        lane.steps.append(step)
    return list(lanes.values())


def select_machine(
    steps: Sequence[Step], machine: str, desired: Target, recorded: RecordedState
) -> tuple[Step, ...]:
    """The steps of one machine's lane and everything they depend on."""
    by_id = {s.id: s for s in steps}
    wanted = {
        s.id
        for s in steps
        if handler_for(s.kind).lane(s, desired, recorded) == f"machine:{machine}"
    }
    todo = list(wanted)
    while todo:
        for dep in by_id[todo.pop()].depends_on:
            if dep not in wanted:
                wanted.add(dep)
                todo.append(dep)
    return tuple(s for s in steps if s.id in wanted)


def run_outcome(
    states: set[MachineState], *, interrupted: bool, preflight_only: bool
) -> RunOutcome:
    """How a run ended, from how its lanes ended (interrupted > failed > rolled back)."""
    if interrupted or "interrupted" in states:
        return "interrupted"
    if "failed" in states:
        return "failed"
    if "rolled-back" in states:
        return "rolled-back"
    if preflight_only:
        return "preflight-ok"
    if "skipped" in states:
        return "failed"  # only ever skipped because something it needs failed
    return "succeeded"


def summary(machines: Mapping[str, MachineState]) -> str:
    """'2 done, 1 failed'."""
    counts: dict[str, int] = {}
    for state in machines.values():
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
