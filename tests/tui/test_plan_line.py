"""The dashboard says what applying the state would change, and follows every save."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from fedi_tui.core.deploy.effects import apply_plan_effects, record_step
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.tui import messages
from fedi_tui.tui.widgets.filtertable import FilterTable
from fedi_tui.tui.widgets.plansummary import PlanSummary
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle, text_of
from tests.unit.plan_support import plan_text


async def test_dashboard_plan_line_follows_saves(demo_copy: Path, make_app: AppFactory) -> None:
    planned = plan_text(demo_copy.read_text())
    done = apply_plan_effects(RecordedState(), planned.plan, planned.config, planned.rendered)
    save_recorded(demo_copy.parent / ".fedi", done)  # everything deployed
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        line = app.screen.query_one(PlanSummary)
        assert text_of(line) == "plan: nothing to do — deployed state matches fedi.toml"
        assert _deployed_column(app.screen) == {
            "coop": "deployed",
            "photoclub": "deployed",
            "school": "deployed",
        }
        edit = Edit(("operators", "coop", "apps", "peertube", "enable"), False)
        app.post_message(messages.SaveEdits([edit], "peertube of coop"))
        await settle(pilot)
        assert text_of(line) == "plan: 0 to create, 0 to change, 2 to destroy"


async def test_deployed_column_reads_the_recorded_state(
    demo_copy: Path, make_app: AppFactory
) -> None:
    planned = plan_text(demo_copy.read_text())
    school_first = [s for s in planned.plan.steps if "school" in s.target or s.target == "bare-1"]
    recorded = RecordedState()
    for step in school_first:  # the school is fully deployed ...
        recorded = record_step(recorded, step, planned.config, planned.rendered)
    vm = next(s for s in planned.plan.steps if s.id == "create-vm:coop-mastodon")
    recorded = record_step(recorded, vm, planned.config, planned.rendered)  # ... coop half
    save_recorded(demo_copy.parent / ".fedi", recorded)
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert _deployed_column(app.screen) == {
            "coop": "partly",
            "photoclub": "never",
            "school": "deployed",
        }


def _deployed_column(screen: Screen[object]) -> dict[str, str]:
    table = screen.query_one("#operators", FilterTable).table
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[3]) for i in range(table.row_count)
    }


async def test_plan_line_explains_what_does_not_fit(demo_copy: Path, make_app: AppFactory) -> None:
    text = demo_copy.read_text().replace(
        "cores = 32, memory_gib = 128", "cores = 1, memory_gib = 1"
    )
    demo_copy.write_text(text)
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        line = text_of(app.screen.query_one(PlanSummary))
        assert line.startswith("plan: cannot place every machine — coop-mastodon")
        assert "most free" in line


async def test_an_unreadable_recorded_state_is_reported(
    demo_copy: Path, make_app: AppFactory
) -> None:
    (demo_copy.parent / ".fedi").mkdir()
    (demo_copy.parent / ".fedi" / "recorded.json").write_text("{ not json")
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("recorded.json:1:" in m and "restore it from a backup" in m for m in messages)
        assert _deployed_column(app.screen)["coop"] == "never"
