"""The dashboard says what applying the state would change, and follows every save."""

from __future__ import annotations

from pathlib import Path

from fedi_tui.core.effects import apply_plan_effects
from fedi_tui.core.recorded import RecordedState, save_recorded
from fedi_tui.core.tomledit import Edit
from fedi_tui.tui import messages
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
        edit = Edit(("operators", "coop", "apps", "peertube", "enable"), False)
        app.post_message(messages.SaveEdits([edit], "peertube of coop"))
        await settle(pilot)
        assert text_of(line) == "plan: 0 to create, 0 to change, 2 to destroy"


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
