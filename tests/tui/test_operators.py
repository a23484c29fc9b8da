"""Operators & applications: edit an option and save exactly that line; conflicts; read-only."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, Switch, TabbedContent

from fedi_tui.tui.screens.modals import ConfirmModal, MessageModal
from fedi_tui.tui.screens.operators import OperatorsScreen
from tests.paths import DEMO
from tests.textdiff import changed_lines
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, settle, text_of, type_into


async def test_edit_option_and_save_changes_exactly_that_line(
    demo_copy: Path, make_app: AppFactory
) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OperatorsScreen) and screen.current == "coop"
        await pilot.press("right_square_bracket")  # Operator → Mastodon tab
        assert screen.query_one(TabbedContent).active == "tab-mastodon"
        await type_into(pilot, "#form-mastodon #f-media_retention_days", "21")
        await settle(pilot)
        assert "1 unsaved change" in text_of(screen.query_one("#op-status", Static))
        assert app.unsaved == {"operators": True}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "no unsaved changes" in text_of(screen.query_one("#op-status", Static))
    after = demo_copy.read_text()
    assert changed_lines(before, after) == [
        "-media_retention_days = 14",
        "+media_retention_days = 21",
    ]
    assert app.state.spec.operators["coop"].apps.mastodon.media_retention_days == 21  # type: ignore[attr-defined]


async def test_enabling_an_app_without_admin_shows_the_problem_and_saves_nothing(
    demo_copy: Path, make_app: AppFactory
) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "2", OperatorsScreen)
        screen.select_entry("photoclub")
        await settle(pilot)
        assert screen.current == "photoclub"
        screen.query_one(TabbedContent).active = "tab-mastodon"
        switch = screen.query_one("#form-mastodon #f-enable", Switch)
        switch.focus()
        await pilot.press("space")
        await settle(pilot)
        assert switch.value is True
        form_text = " ".join(text_of(s) for s in screen.query("#form-mastodon .form-general"))
        assert "needs an admin account" in form_text
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert demo_copy.read_text() == before


async def test_save_after_the_file_changed_offers_reload(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await type_into(pilot, "#form-operator #f-name", "Renamed Coop")
        await settle(pilot)
        someone_else = demo_copy.read_text().replace("# Cooperative running", "# Co-op running")
        demo_copy.write_text(someone_else)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "changed on disk" in app.screen.body
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert app.state.text == someone_else
        assert app.unsaved.get("operators") is False
        screen = app.screen
        assert isinstance(screen, OperatorsScreen)
        assert screen.query_one("#form-operator #f-name").value == "Fedi Cooperative"  # type: ignore[attr-defined]
    assert demo_copy.read_text() == someone_else


async def test_invalid_save_shows_a_modal_not_a_traceback(
    demo_copy: Path, make_app: AppFactory
) -> None:
    """Removing a runtime that operators use fails validation: a modal says so."""
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "coop, photoclub" in app.screen.body
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MessageModal)
        assert "no [runtimes.pve-a] is defined" in app.screen.body
        assert "Nothing was written" in app.screen.body
    assert demo_copy.read_text() == before


async def test_read_only_disables_editing_and_says_so(
    demo_copy: Path, make_app: AppFactory
) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert "READ-ONLY" in text_of(screen.query_one("NavBar"))
        assert screen.query_one("#form-operator").disabled
        assert "read-only" in text_of(screen.query_one("#op-status", Static))
        assert not {"ctrl+s", "x", "a"} & set(app.screen.active_bindings)  # absent
        await pilot.press("ctrl+s", "x", "a")
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
        await pilot.press("4")  # the guided setup is not there at all
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
    assert demo_copy.read_text() == before


async def test_quit_with_unsaved_edits_asks_first(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await type_into(pilot, "#form-operator #f-domain", "coop2.test")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert app.return_code == 0
    assert demo_copy.read_text() == DEMO.read_text()
