"""The Deployments area's tabs and focus agree and come to rest: a tab switch focuses what the
tab shows once, and a widget focused inside a tab (the table under the Run tab) makes that
tab active without bouncing back to the one before."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from fedi_tui.tui.screens.deployments import DeploymentsScreen
from fedi_tui.tui.widgets.progresstable import ProgressTable
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, settle

TURNS = 30
"""Idle turns watched after the switches: a ping-pong between two tabs never stops."""


async def test_switching_tabs_back_to_back_comes_to_rest(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_area(pilot, "6", DeploymentsScreen)
        activated: list[str] = []

        def seen(tab: str) -> None:
            activated.append(tab)

        screen.watch(screen.query_one(TabbedContent), "active", seen, init=False)
        # what mounting with a run in progress does: the plan first, then the run
        screen.action_show_tab("plan")
        screen.action_show_tab("run")
        screen.query_one("#plan-body").focus()
        screen.query_one(ProgressTable).table.focus()
        await settle(pilot)
        activated.clear()
        for _ in range(TURNS):
            await pilot.pause()
        assert activated == [], f"the tabs kept switching: {activated[:8]}…"
        assert screen.query_one(TabbedContent).active == "tab-run"
        assert screen.focused is screen.query_one(ProgressTable).table


async def test_each_tab_key_lands_on_its_tab(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_area(pilot, "6", DeploymentsScreen)
        tabs = screen.query_one(TabbedContent)
        for key, tab in (("r", "run"), ("h", "history"), ("v", "plan"), ("r", "run")):
            await pilot.press(key)
            await settle(pilot)
            assert tabs.active == f"tab-{tab}", key
            focused = screen.focused
            assert focused is not None and tabs.get_pane(f"tab-{tab}") in focused.ancestors
