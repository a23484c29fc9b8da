"""Deployments area against real loopback hosts (sshd + fake nixos-rebuild): plan → confirm →
apply from the TUI, rows moving through their states, lines while the switch still runs,
the run surviving area switches, cancel, history and the dashboard's "deployed" column."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from textual.pilot import Pilot

from fedi_tui.core.deploy.events import Event
from fedi_tui.core.deploy.history import load_index
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.views.history import day
from fedi_tui.core.views.progress import RunProgress
from fedi_tui.tui.app import FediApp
from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.deployments import DeploymentsScreen
from fedi_tui.tui.screens.logs import LogsScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.widgets.filtertable import FilterTable
from fedi_tui.tui.widgets.progresstable import ProgressTable
from tests.deploy.conftest import deploy_hosts, health, write_state
from tests.fixtures.deployhosts import DeployHost
from tests.tui.conftest import AppFactory
from tests.tui.helpers import screen_text

__all__ = ["deploy_hosts", "health"]

HostFactory = Callable[..., DeployHost]
pytestmark = [pytest.mark.real, pytest.mark.slow]


async def until(pilot: Pilot[object], what: str, check: Callable[[], bool]) -> None:
    """Let the app run until `check()` holds (a deployment moves at its own pace)."""
    for _ in range(600):  # 60 s of app time at most
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"never happened: {what}\n{screen_text(pilot.app)}")


def state_of(app: FediApp, machine: str) -> str | None:
    progress = app.deployments.progress
    if progress is None or machine not in progress.machines:
        return None
    return progress.machines[machine].state


async def open_plan(pilot: Pilot[object]) -> DeploymentsScreen:
    await pilot.press("6")
    screen = pilot.app.screen
    assert isinstance(screen, DeploymentsScreen)
    await until(pilot, "the plan is shown", lambda: screen.view is not None)
    return screen


async def wait_for_question(pilot: Pilot[object]) -> None:
    """Until the question is on the screen (drawn, not only pushed)."""
    app = pilot.app
    await until(
        pilot,
        "the question",
        lambda: isinstance(app.screen, ConfirmModal) and "Apply this plan?" in screen_text(app),
    )


async def confirm_apply(pilot: Pilot[object]) -> None:
    await pilot.press("a")
    await wait_for_question(pilot)
    await pilot.press("y")


def follow_states(app: FediApp, machines: Sequence[str]) -> dict[str, list[str]]:
    """Every state each row passes through: each batch of the run's events replayed one by
    one (under load a batch may carry a machine through several states at once)."""
    seen: dict[str, list[str]] = {m: [] for m in machines}
    replay: list[RunProgress] = []

    def follow(batch: Sequence[Event]) -> None:
        if not replay:
            assert app.deployments.progress is not None
            replay.append(RunProgress.of((), app.deployments.progress.expected))
        for event in batch:
            replay[0].feed((event,))
            for name, states in seen.items():
                row = replay[0].machines.get(name)
                if row is not None and (not states or states[-1] != row.state):
                    states.append(row.state)

    app.deployments.listeners.append(follow)
    return seen


async def test_apply_from_the_tui_follows_every_machine(
    tmp_path: Path, deploy_hosts: HostFactory, make_app: AppFactory
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [first, second])
    second.tell("hold-switch")
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        assert screen.view is not None and screen.view.can_apply
        text = screen_text(app)
        assert "host1  (host1, 127.0.0.10)" in text and "configuration.nix (new)" in text
        # nothing secret: not on screen, not in any step or diff of the view
        secrets = SecretStore(tmp_path / ".fedi").all_values()
        shown = text + "".join(g.diff + str(g.steps) for g in screen.view.groups)
        assert secrets and not [v for v in secrets if v in shown]
        # asked first: No leaves everything as it was
        await pilot.press("a")
        await until(pilot, "the question", lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await pilot.pause()
        assert app.deployments.progress is None and first.generation() == 0

        seen = follow_states(app, ["host1", "host2"])
        await confirm_apply(pilot)
        await until(pilot, "the run tab", lambda: "Deployment " in screen_text(app))

        def host2_holds() -> bool:
            progress = app.deployments.progress
            row = progress.machines.get("host2") if progress else None
            return row is not None and "holding for release-switch" in row.last_line

        await until(pilot, "host2's switch is held", host2_holds)
        assert state_of(app, "host2") == "activating"
        assert app.deployments.running  # the line came while the switch still runs
        await until(pilot, "host1 done", lambda: state_of(app, "host1") == "done")
        # moved on, in order (the activate step builds first: activating ↔ preflight)
        order = ["waiting", "pushing", "activating", "checking", "done"]
        moves = [s for s in seen["host1"] if s != "preflight"]
        assert moves[-1] == "done" and "activating" in moves and len(moves) >= 3
        assert moves == sorted(moves, key=order.index)
        assert "holding for release-switch" in screen_text(app)  # in the table's last line

        # opening the log (of the machine under the cursor: host2) and closing it keeps the run
        rows = app.screen.query_one(ProgressTable).table
        rows.move_cursor(row=rows.get_row_index("host2"))
        await pilot.pause()
        await pilot.press("l")
        await until(pilot, "the log", lambda: isinstance(app.screen, LogsScreen))
        await until(
            pilot, "the held line", lambda: "holding for release-switch" in screen_text(app)
        )
        await pilot.press("escape")
        await until(pilot, "back", lambda: isinstance(app.screen, DeploymentsScreen))
        assert app.deployments.running and state_of(app, "host2") == "activating"

        # leaving the area (and opening the dashboard) does not touch the run
        await pilot.press("1")
        await until(pilot, "the dashboard", lambda: isinstance(app.screen, DashboardScreen))
        assert app.deployments.running
        second.tell("release-switch")
        await until(pilot, "the run ends", lambda: not app.deployments.running)
        assert seen["host2"][-1] == "done" and "checking" in seen["host2"]
        await pilot.press("6")
        await until(pilot, "the area again", lambda: isinstance(app.screen, DeploymentsScreen))
        await pilot.press("r")
        await pilot.pause()
        assert app.deployments.progress is not None
        assert app.deployments.progress.outcome == "succeeded"
        ended = [n.message for n in app._notifications if n.title == "Deployment ended"]
        assert len(ended) == 1 and "succeeded" in ended[0]
        assert {state_of(app, "host1"), state_of(app, "host2")} == {"done"}
        text = screen_text(app)
        assert "succeeded" in text and "host2" in text

        # the history lists it, with each machine's configuration hash
        run = load_index(tmp_path / ".fedi").deployments[-1]
        await until(
            pilot, "history read", lambda: app.history is not None and bool(app.history.deployments)
        )
        await pilot.press("h")
        await pilot.pause()
        history = app.screen.query_one("#history", FilterTable)
        assert history.current_key == run.id
        detail = screen_text(app)
        config_hash = run.machines["host1"].config_hash
        assert config_hash and config_hash[:12] in detail and "succeeded" in detail
        await pilot.press("enter")  # that run's log
        await until(pilot, "the log", lambda: isinstance(app.screen, LogsScreen))
        assert app.screen.log_path == tmp_path / ".fedi" / "deployments" / f"{run.id}.jsonl"
        await pilot.press("escape")
        await until(pilot, "back", lambda: isinstance(app.screen, DeploymentsScreen))

        # and the dashboard's "deployed" column says so
        await pilot.press("1")
        await until(pilot, "the dashboard", lambda: isinstance(app.screen, DashboardScreen))
        deployed = f"deployed {day(run.finished)}"  # the day of that run, from the history
        await until(pilot, deployed, lambda: deployed in screen_text(app))
    assert first.generation() == 1 and second.generation() == 1


async def test_cancel_asks_then_stops_the_run_cleanly(
    tmp_path: Path, deploy_hosts: HostFactory, make_app: AppFactory
) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    host.tell("hold-switch")
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_plan(pilot)
        await confirm_apply(pilot)

        def held() -> bool:
            progress = app.deployments.progress
            row = progress.machines.get("host1") if progress else None
            return row is not None and "holding for release-switch" in row.last_line

        await until(pilot, "the switch is held", held)
        await pilot.press("c")
        await until(pilot, "the question", lambda: isinstance(app.screen, ConfirmModal))
        assert "Cancel the deployment?" in screen_text(app)
        await pilot.press("n")  # keep it running
        await pilot.pause()
        assert app.deployments.running and not app.deployments.cancelling
        await pilot.press("c")
        await until(pilot, "the question", lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, "the run ends", lambda: not app.deployments.running)
        progress = app.deployments.progress
        assert progress is not None and progress.outcome == "interrupted"
        assert state_of(app, "host1") == "interrupted"
        await pilot.pause()
        assert "cancelled" in screen_text(app)
    run = load_index(tmp_path / ".fedi").deployments[-1]
    assert run.outcome == "interrupted"
    assert run.machines["host1"].state == "interrupted"
    assert host.generation() == 0  # the held switch never happened


async def test_quitting_during_a_run_asks_then_cancels_it_first(
    tmp_path: Path, deploy_hosts: HostFactory, make_app: AppFactory
) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    host.tell("hold-switch")
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_plan(pilot)
        await confirm_apply(pilot)
        await until(pilot, "running", lambda: state_of(app, "host1") == "activating")
        await pilot.press("q")
        await until(pilot, "the question", lambda: isinstance(app.screen, ConfirmModal))
        assert "A deployment is running" in screen_text(app)
        await pilot.press("y")
        await until(pilot, "the run ends", lambda: not app.deployments.running)
        await until(
            pilot, "the app exits", lambda: app._exit_renderables is not None and not app.is_running
        )
    assert app.return_code == 0
    assert load_index(tmp_path / ".fedi").deployments[-1].outcome == "interrupted"


async def test_one_operators_plan_is_applied_alone(
    tmp_path: Path, deploy_hosts: HostFactory, make_app: AppFactory
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [first, second])
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("o")  # the whole provider → op1
        assert screen.scope == "op1"
        await until(pilot, "op1's plan", lambda: screen.view is not None)
        assert screen.view is not None
        assert {g.name for g in screen.view.groups} == {"host1"}
        assert "Plan for operator op1" in screen_text(app)
        await confirm_apply(pilot)
        await until(
            pilot,
            "the run ends",
            lambda: (
                app.deployments.progress is not None
                and app.deployments.progress.outcome is not None
            ),
        )
        assert app.deployments.progress is not None
        assert set(app.deployments.progress.machines) == {"host1"}
    assert first.generation() == 1 and second.generation() == 0
