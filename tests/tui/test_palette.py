"""The command palette (ctrl+p) finds every fedi-tui action by name, its own commands first."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette, Hit
from textual.pilot import Pilot

from fedi_tui.core.views.planview import plan_text
from fedi_tui.core.workspace import Workspace
from fedi_tui.tui.commands import FediCommands, TextualCommands
from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.screens.operators import OperatorsScreen
from fedi_tui.tui.screens.plan import PlanScreen
from fedi_tui.tui.screens.runtimes import RuntimesScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, settle, type_into


async def palette_search(pilot: Pilot[object], text: str) -> list[str]:
    """Open the palette, type `text`, and return the prompts it lists, in order."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    await pilot.press(*("space" if c == " " else c for c in text))
    commands = palette.query_one(CommandList)
    for _ in range(200):  # the palette gathers hits in batches: wait until they are in
        await pilot.pause(0.05)
        if commands.option_count and not palette._show_busy:
            break
    prompts = (str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count))
    return [prompt.split("\n")[0] for prompt in prompts]  # the title, without the help line


async def test_plan_is_found_from_the_dashboard_and_shows_the_plan(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        found = await palette_search(pilot, "plan")
        assert found[0] == "Plan: what applying fedi.toml would change"
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, PlanScreen)
        assert view.text == plan_text(Workspace.from_loaded(app.state))
        assert "+ create-vm coop-mastodon" in view.text and "to create" in view.text


async def test_test_connection_is_found_from_the_dashboard_and_runs_in_runtimes(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        found = await palette_search(pilot, "test connection")
        assert found[0] == "Runtimes: Test connection"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RuntimesScreen)
        assert "runtimes/pve-a" in app.probes  # tested (the demo's port is closed: refused)


async def test_fedi_tui_commands_rank_before_textual_ones(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        ours, theirs = FediCommands(screen), TextualCommands(screen)
        await ours.startup()
        for query in ("s", "e", "sc"):
            mine = [h.score async for h in ours.search(query) if isinstance(h, Hit)]
            others = [h.score async for h in theirs.search(query) if isinstance(h, Hit)]
            assert mine and others, query
            assert min(mine) > max(others), query


async def test_every_area_action_is_in_the_palette(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = FediCommands(app.screen)
        await provider.startup()
        titles = {title for title, _, _ in provider._commands}
        for title in (
            "Add operator",  # the dashboard's own
            "Operators: Save",
            "Operators: Revert",
            "Runtimes: Test connection",
            "Runtimes: Pin",
            "Setup: Next",
            "Plan: what applying fedi.toml would change",
            "Go to Nix",
            "Quit fedi-tui",
            "Help: the keys of this screen",
        ):
            assert title in titles
        assert not [t for t in titles if t.startswith("Dashboard:")]  # we are there


async def test_quit_from_the_palette_asks_when_edits_are_unsaved(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "2", OperatorsScreen)
        await type_into(pilot, "#form-operator #f-domain", "coop2.test")
        await settle(pilot)
        found = await palette_search(pilot, "quit")
        assert found == ["Quit fedi-tui"]  # Textual's own Quit (no question) is gone
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
