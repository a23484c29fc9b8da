"""The progress table's rows, derived from engine events only (pure, no run needed)."""

from __future__ import annotations

from fedi_tui.core.deploy.events import (
    Event,
    LogLine,
    MachineFinished,
    RunFinished,
    RunStarted,
    StepFinished,
    StepPhase,
    StepStarted,
)
from fedi_tui.core.views.progress import RunProgress, format_elapsed, state_label

D = "20261202T080000Z-abcd"
STEPS = {
    "web": frozenset({"push-config:web", "activate:web", "health-check:web"}),
    "db": frozenset({"push-config:db", "activate:db"}),
}


def started(at: float = 100.0) -> RunStarted:
    return RunStarted(
        deployment=D, at=at, user="ann@box", state_file="fedi.toml",
        summary="0 to create, 2 to change, 0 to destroy", machines=("web", "db"), steps=5,
    )  # fmt: skip


def step(step: str, at: float) -> StepStarted:
    machine = step.split(":")[1]
    return StepStarted(deployment=D, at=at, step=step, description=step, target_machine=machine)


def end(step: str, at: float, outcome: str = "done", message: str = "") -> StepFinished:
    machine = step.split(":")[1]
    return StepFinished(
        deployment=D, at=at, step=step, outcome=outcome,  # type: ignore[arg-type]
        message=message, target_machine=machine,
    )  # fmt: skip


def line(machine: str, text: str, at: float) -> LogLine:
    return LogLine(
        deployment=D, at=at, step=f"activate:{machine}", stream="stderr", text=text,
        target_machine=machine,
    )  # fmt: skip


def test_machines_wait_until_their_first_step() -> None:
    p = RunProgress.of([started()], STEPS)
    assert {n: m.state for n, m in p.machines.items()} == {"web": "waiting", "db": "waiting"}
    assert p.machines["web"].elapsed(200.0) is None
    assert p.running and p.fraction == 0.0


def test_states_follow_the_steps_and_phases() -> None:
    events: list[Event] = [started(), step("push-config:web", 101.0)]
    p = RunProgress.of(events, STEPS)
    assert p.machines["web"].state == "pushing"
    p.feed([end("push-config:web", 102.0), step("activate:web", 102.5)])
    assert p.machines["web"].state == "activating"
    p.feed(
        [
            StepPhase(
                deployment=D,
                at=103.0,
                step="activate:web",
                phase="preflight build",
                state="preflight",
                target_machine="web",
            ),
        ]
    )
    assert state_label(p.machines["web"].state) == "building"
    p.feed([line("web", "building the system configuration...", 104.0)])
    assert p.machines["web"].last_line == "building the system configuration..."
    assert p.machines["web"].elapsed(110.0) == 9.0  # since its first step, by event time
    p.feed([end("activate:web", 105.0), step("health-check:web", 105.0)])
    assert p.machines["web"].state == "checking"
    assert p.fraction == 2 / 5


def test_a_machine_is_done_when_its_lane_is_through() -> None:
    events = [
        started(),
        step("push-config:web", 101.0),
        end("push-config:web", 102.0),
        step("activate:web", 102.0),
        end("activate:web", 103.0),
        step("health-check:web", 103.0),
        end("health-check:web", 104.0),
    ]
    p = RunProgress.of(events, STEPS)
    web = p.machines["web"]
    assert web.state == "done" and web.ended
    assert web.elapsed(999.0) == 3.0  # stops counting when it ended
    assert p.machines["db"].state == "waiting"  # the other one has not started


def test_failures_and_rollbacks_show_at_once() -> None:
    p = RunProgress.of(
        [
            started(),
            step("activate:web", 101.0),
            end("activate:web", 102.0, "rolled-back", "health check failed; switched back"),
            step("activate:db", 101.0),
            end("activate:db", 102.0, "failed", "nixos-rebuild \x1b[31mexit 1"),
        ],
        STEPS,
    )
    assert p.machines["web"].state == "rolled-back"
    assert state_label("rolled-back") == "rolled back"
    assert p.machines["db"].state == "failed"
    assert p.machines["db"].last_line == "nixos-rebuild \\x1b[31mexit 1"  # made visible


def test_the_end_of_the_run_decides() -> None:
    p = RunProgress.of([started(), step("activate:web", 101.0)], STEPS)
    p.feed(
        [
            end("activate:web", 102.0, "interrupted", "interrupted while running"),
            MachineFinished(
                deployment=D, at=103.0, name="web", state="interrupted", config_hash=None
            ),
            MachineFinished(deployment=D, at=103.0, name="db", state="interrupted"),
            RunFinished(deployment=D, at=103.0, outcome="interrupted", message="2 interrupted"),
        ]
    )
    assert state_label(p.machines["web"].state) == "cancelled"
    assert p.outcome == "interrupted" and not p.running and p.fraction == 1.0


def test_a_log_read_back_without_the_plan_still_gets_rows() -> None:
    p = RunProgress.of([started(), step("activate:web", 101.0)])
    assert set(p.machines) == {"web", "db"}
    assert p.machines["web"].state == "activating"


def test_elapsed_is_readable() -> None:
    assert format_elapsed(None) == "—"
    assert format_elapsed(3.25) == "3.2 s"
    assert format_elapsed(75) == "1:15"
