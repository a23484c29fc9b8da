"""Snapshots of the Deployments area and read-only mode (sample-configs/demo.toml), two sizes:
the plan view, the progress table (fixed events and a fixed clock), the history, and the
read-only dashboard. Regenerate with `--snapshot-update`, then look at every SVG."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

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
from fedi_tui.core.deploy.history import HistoryWriter
from fedi_tui.core.views.progress import RunProgress
from fedi_tui.tui.app import FediApp
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
T0 = 1_796_198_400.0  # 2026-12-02 08:00:00 UTC
RUN = "20261202T080000Z-5eed"
MACHINES = ("bare-1", "coop-mastodon", "coop-peertube", "photoclub-pixelfed")


def started() -> RunStarted:
    return RunStarted(
        deployment=RUN,
        at=T0,
        user="ann@noc-1",
        state_file="fedi.toml",
        summary="14 to create, 0 to change, 0 to destroy",
        machines=MACHINES,
        steps=24,
    )


def step_events() -> list[Event]:
    """bare-1 done, coop-mastodon switching (a line from nixos-rebuild), coop-peertube
    rolled back, photoclub-pixelfed waiting."""

    def s(kind: str, m: str, at: float, desc: str) -> StepStarted:
        return StepStarted(
            deployment=RUN, at=T0 + at, step=f"{kind}:{m}", description=desc, target_machine=m
        )

    def f(kind: str, m: str, at: float, outcome: str = "done", msg: str = "") -> StepFinished:
        return StepFinished(
            deployment=RUN,
            at=T0 + at,
            step=f"{kind}:{m}",
            outcome=outcome,  # type: ignore[arg-type]
            message=msg,
            target_machine=m,
        )

    return [
        started(),
        s("push-config", "bare-1", 1, "push-config bare-1"),
        f("push-config", "bare-1", 3),
        s("activate", "bare-1", 3, "activate bare-1"),
        f("activate", "bare-1", 20),
        s("health-check", "bare-1", 20, "health-check bare-1"),
        f("health-check", "bare-1", 24),
        s("push-config", "coop-mastodon", 2, "push-config coop-mastodon"),
        f("push-config", "coop-mastodon", 5),
        s("activate", "coop-mastodon", 5, "activate coop-mastodon"),
        StepPhase(
            deployment=RUN,
            at=T0 + 30,
            step="activate:coop-mastodon",
            phase="switching to the new configuration",
            state="activating",
            target_machine="coop-mastodon",
        ),
        LogLine(
            deployment=RUN,
            at=T0 + 31,
            step="activate:coop-mastodon",
            stream="stderr",
            text="activating the configuration...",
            target_machine="coop-mastodon",
        ),
        s("activate", "coop-peertube", 6, "activate coop-peertube"),
        f("activate", "coop-peertube", 40, "rolled-back", "health check failed; switched back"),
    ]


EXPECTED = {
    "bare-1": frozenset({"push-config:bare-1", "activate:bare-1", "health-check:bare-1"}),
    "coop-mastodon": frozenset({"push-config:coop-mastodon", "activate:coop-mastodon"}),
    "coop-peertube": frozenset({"activate:coop-peertube", "health-check:coop-peertube"}),
    "photoclub-pixelfed": frozenset({"push-config:photoclub-pixelfed"}),
}


def write_history(state_file: Path) -> None:
    """Two past runs in the demo's state directory, as a run writes them."""
    for n, (run, outcome) in enumerate(
        ((RUN.replace("0800", "0700"), "succeeded"), (RUN, "rolled-back"))
    ):
        at = T0 - 3600 * (1 - n)
        writer = HistoryWriter(state_file.parent / ".fedi", run)
        writer(RunStarted(**{**started().__dict__, "deployment": run, "at": at}))
        for m in MACHINES:
            state = "rolled-back" if outcome == "rolled-back" and m == "coop-peertube" else "done"
            h = hashlib.sha256(f"{m}/{n}".encode()).hexdigest()
            writer(
                MachineFinished(
                    deployment=run,
                    at=at + 60,
                    name=m,
                    state=state,  # type: ignore[arg-type]
                    config_hash=h,
                    message="health check failed; switched back" if state != "done" else "",
                )
            )
        writer(RunFinished(deployment=run, at=at + 61, outcome=outcome, message="4 machines"))  # type: ignore[arg-type]
        writer.close()


def keys(
    *pressed: str, before: Callable[[FediApp], None] | None = None
) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if before is not None:
            assert isinstance(pilot.app, FediApp)
            before(pilot.app)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run


def show_run(app: FediApp) -> None:
    app.deployments.progress = RunProgress.of(step_events(), EXPECTED)
    app.deployments.running = True
    app.run_tick += 1


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", ["plan", "progress", "history", "read_only_dashboard"])
def test_deployments(
    view: str,
    size: str,
    demo_copy: Path,
    make_app: AppFactory,
    snap_compare: Callable[..., bool],
) -> None:
    options: dict[str, Any] = {"theme": "fedi-dark", "clock": lambda: T0 + 45}
    if view == "plan":
        run = keys("6")
    elif view == "progress":
        run = keys("6", "r", before=show_run)
    elif view == "history":
        write_history(demo_copy)
        run = keys("6", "h")
    else:
        write_history(demo_copy)
        options["read_only"] = True
        run = keys()
    app = make_app(demo_copy, **options)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run)
