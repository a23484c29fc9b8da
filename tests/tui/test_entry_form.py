"""The add/edit form of runtimes and storage: quiet when it opens, problems once a field is
left or a save is tried, in words; Tab goes from field to field."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from fedi_tui.tui.screens.entry import EntryModal
from fedi_tui.tui.screens.runtimes import RuntimesScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, screen_text, settle, text_of


async def open_add_nixos_host(pilot: Pilot[object]) -> EntryModal:
    await open_area(pilot, "3", RuntimesScreen)
    await pilot.press("a")
    await settle(pilot)
    await pilot.press("down", "enter")  # NixOS host
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, EntryModal) and modal.kind == "nixos"
    return modal


def status(modal: EntryModal) -> str:
    return text_of(modal.query_one("#entry-status", Static))


async def test_the_add_form_opens_without_errors(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_add_nixos_host(pilot)
        assert "✗" not in screen_text(app)
        assert status(modal) == "fill in the fields; ctrl+s saves"


async def test_tab_goes_from_the_name_to_the_first_field(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_add_nixos_host(pilot)
        assert isinstance(app.focused, Input) and app.focused.id == "entry-name"
        await pilot.press("tab")
        assert isinstance(app.focused, Input) and app.focused.id == "f-host"
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Input) and app.focused.id == "entry-name"


async def test_a_bad_name_is_explained_in_words_once_the_field_is_left(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_add_nixos_host(pilot)
        await pilot.press("B", "a", "d")
        await settle(pilot)
        name_error = modal.query_one("#name-error", Static)
        assert text_of(name_error) == ""  # still typing
        await pilot.press("tab")
        await settle(pilot)
        shown = text_of(name_error)
        assert shown.startswith("✗ a name is 2 to 32 characters: lower-case letters, digits")
        assert "pattern" not in screen_text(app) and "{0,30}" not in screen_text(app)
        assert status(modal) == "✗ 1 problem(s): fix the marked fields"
        host_error = modal.query_one("#f-host-box .field-error", Static)
        assert text_of(host_error) == ""  # host: not left yet
        await pilot.press("tab")  # leave host empty
        await settle(pilot)
        assert text_of(host_error) == "✗ required: please fill this in"


async def test_save_shows_every_problem(demo_copy: Path, make_app: AppFactory) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_add_nixos_host(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is modal
        assert "required: a name is" in text_of(modal.query_one("#name-error", Static))
        for field in ("host", "ssh-key"):
            error = modal.query_one(f"#f-{field}-box .field-error", Static)
            assert text_of(error) == "✗ required: please fill this in"
        assert status(modal) == "✗ 3 problem(s): fix the marked fields"
    assert demo_copy.read_text() == before


async def test_the_focused_field_shows_with_its_label(
    demo_copy: Path, make_app: AppFactory
) -> None:
    """Editing opens at the first field with its label; Tab keeps each label in view."""
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EntryModal)
        assert isinstance(app.focused, Input) and app.focused.id == "f-api"
        for field in modal.fields[:8]:
            lines = [
                re.split(r"\s{2,}", row.strip("█ "))[0] for row in screen_text(app).splitlines()
            ]
            assert field.label in lines, field.label
            await pilot.press("tab")
            await settle(pilot)
