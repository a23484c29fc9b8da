"""Keys, help, filter, palette, themes and the one error handler."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from fedi_tui.tui.commands import FediCommands
from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.help import HelpScreen
from fedi_tui.tui.screens.modals import MessageModal
from fedi_tui.tui.screens.operators import OperatorsScreen
from fedi_tui.tui.themes import load_themes, remembered_theme
from fedi_tui.tui.widgets.filtertable import FilterTable
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle


def keys_of(table: FilterTable) -> list[str]:
    data = table.query_one(DataTable)
    return [str(data.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(data.row_count)]


async def test_every_area_is_one_key_away_and_escape_goes_back(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = []
        for key in "23451":
            await pilot.press(key)
            await settle(pilot)
            seen.append(app.current_mode)
            if key != "1":
                await pilot.press("escape")
                await settle(pilot)
                assert app.current_mode == "dashboard"
        assert seen == ["operators", "runtimes", "setup", "nix", "dashboard"]


async def test_slash_filters_and_jk_move(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#operator-list", FilterTable)
        assert keys_of(table) == ["coop", "photoclub", "school"]
        await pilot.press("j", "j")
        await settle(pilot)
        assert table.current_key == "school"
        await pilot.press("k")
        await settle(pilot)
        assert table.current_key == "photoclub"
        await pilot.press("slash", "s", "c", "h")
        await settle(pilot)
        assert keys_of(table) == ["school"]
        await pilot.press("escape")  # leaves the filter, not the screen
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
        assert keys_of(table) == ["coop", "photoclub", "school"]


async def test_help_lists_the_keys_of_the_screen(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        listed = {(keys, what) for keys, what, _ in help_screen.rows}
        assert {("^s", "Save"), ("^r", "Revert"), ("x", "Remove")} <= listed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)


async def test_palette_offers_every_action_of_the_screen(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        provider = FediCommands(app.screen)
        await provider.startup()
        titles = {title for title, _, _ in provider._commands}
        for binding in ("Test connection", "Pin", "Edit", "Add", "Remove"):
            assert binding in titles
        assert {"Go to Operators", "Reload the state file", "Theme: fedi-high-contrast"} <= titles


async def test_theme_choice_is_remembered(demo_copy: Path, make_app: AppFactory) -> None:
    assert {t.name for t in load_themes()} >= {"fedi-dark", "fedi-light", "fedi-high-contrast"}
    app = make_app(demo_copy, remember_theme=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "fedi-dark"
        app.theme = "fedi-light"
        await settle(pilot)
    assert remembered_theme() == "fedi-light"
    again = make_app(demo_copy)
    assert again.theme == "fedi-light"


async def test_a_failing_job_shows_a_modal_and_writes_a_crash_log(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)

    def broken() -> None:
        raise RuntimeError("boom")

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.start_job(broken, name="render", group="test")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, MessageModal)
        assert "internal error (RuntimeError)" in modal.body
        assert "Traceback" not in modal.body
        log = modal.body.split("The trace is in ")[1].split(".log")[0] + ".log"
        assert "boom" in Path(log).read_text()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
