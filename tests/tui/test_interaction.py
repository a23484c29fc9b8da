"""Keys, help, filter, palette, themes and the one error handler."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from fedi_tui.tui.commands import FediCommands
from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.help import HelpScreen
from fedi_tui.tui.screens.modals import ConfirmModal, MessageModal
from fedi_tui.tui.screens.operators import OperatorsScreen
from fedi_tui.tui.themes import load_themes, remembered_theme
from fedi_tui.tui.widgets.filtertable import FilterTable
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, screen_text, settle, text_of, type_into


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


async def test_help_lists_the_keys_of_the_screen_first_and_fits_the_app_keys(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        table = help_screen.query_one(DataTable)
        rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert rows[:6] == ["^s", "^r", "a", "x / del", "m", "]"]  # this screen's own keys
        assert rows.index("q") < rows.index("tab / shift+tab") < rows.index("↑ / k")
        shown = screen_text(app)  # at 80x24, fedi-tui's keys are on screen
        for line in ("quit (when no text field has focus)", "ctrl+q / ctrl+c", "this help"):
            assert line in shown
        assert "Focus Next" not in shown
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


async def test_area_keys_type_into_a_focused_field_and_escape_leaves_it(
    demo_copy: Path, make_app: AppFactory
) -> None:
    """A "5" in a number field is a digit (30 → 305); Esc leaves the field, then 5 is Nix."""
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "2", OperatorsScreen)
        screen.select_entry("school")  # its mastodon has the default 30 days
        await settle(pilot)
        await pilot.press("right_square_bracket")
        field = screen.query_one("#form-mastodon #f-media_retention_days", Input)
        field.focus()
        await pilot.press("end", "5")
        await settle(pilot)
        assert field.value == "305" and app.current_mode == "operators"
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "operators"  # Esc left the field, not the area
        assert app.focused is screen.query_one("#operator-list", FilterTable).table
        await pilot.press("5")
        await settle(pilot)
        assert app.current_mode == "nix"


async def test_a_refused_key_in_a_number_field_says_why(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "2", OperatorsScreen)
        await pilot.press("right_square_bracket")
        field = screen.query_one("#form-mastodon #f-media_retention_days", Input)
        field.focus()
        await pilot.press("end", "x")
        await settle(pilot)
        error = screen.query_one("#form-mastodon #f-media_retention_days-box .field-error")
        assert field.value == "14"
        assert text_of(error) == "✗ only a whole number fits here (digits, e.g. 30)"
        await pilot.press("5")
        await settle(pilot)
        assert field.value == "145" and text_of(error) == ""


async def test_area_keys_do_nothing_under_a_dialog(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "2", OperatorsScreen)
        await pilot.press("x")  # "Remove operator?"
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and app.current_mode == "operators"


async def test_ctrl_c_quits_and_asks_first_when_edits_are_unsaved(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "2", OperatorsScreen)
        await type_into(pilot, "#form-operator #f-domain", "coop2.test")
        await settle(pilot)
        await pilot.press("ctrl+c")  # in a text field, too
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
        await pilot.press("ctrl+r", "ctrl+c")  # reverted: nothing to lose, no question
        await settle(pilot)
    assert app.return_code == 0
