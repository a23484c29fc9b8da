"""Read-only (support staff): every mutating action is absent — from every area's bindings
and footer, the help and the palette — a READ-ONLY badge shows, and the core refuses too."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import DiscoveryHit

from fedi_tui.core.readonly import ReadOnlyRefused, is_read_only
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.tui.app import FediApp
from fedi_tui.tui.areas import AREAS, screen_class
from fedi_tui.tui.commands import FediCommands
from fedi_tui.tui.screens.help import HelpScreen
from fedi_tui.tui.screens.plan import PlanScreen
from fedi_tui.tui.settings import remember_setting, settings_path
from fedi_tui.tui.themes import remember_theme
from tests.tui.conftest import AppFactory
from tests.tui.helpers import screen_text, settle

MUTATING = frozenset().union(*(screen_class(mode).EDIT_ACTIONS for _, mode, _ in AREAS))
"""Every action an area declares as changing something."""
WORDS = ("Save", "Revert", "Add", "Remove", "Edit", "Pin", "Apply", "Cancel run", "Migrate")


def test_the_areas_declare_their_mutating_actions() -> None:
    assert {
        "save",
        "add",
        "remove",
        "edit",
        "pin",
        "apply",
        "cancel_run",
        "setup",
        "migrate",
    } <= MUTATING


async def offered_commands(app: FediApp) -> list[str]:
    provider = FediCommands(app.screen)
    await provider.startup()
    return [str(hit.text) async for hit in provider.discover() if isinstance(hit, DiscoveryHit)]


async def test_no_mutating_action_anywhere(demo_copy: Path, make_app: AppFactory) -> None:
    before = demo_copy.read_bytes()
    app = make_app(demo_copy, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        visited = []
        for key, mode, _title in app.areas():
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            assert getattr(screen, "AREA", None) == mode
            visited.append(mode)
            actions = {b.binding.action for b in screen.active_bindings.values()}
            assert not actions & MUTATING, f"{mode} offers {actions & MUTATING}"
            footer = screen_text(app).splitlines()[-1]
            assert not [w for w in WORDS if w in footer], f"{mode} footer: {footer}"
            assert "READ-ONLY" in screen_text(app).splitlines()[0]
            commands = await offered_commands(app)
            assert commands, "the palette lists the read-only commands"
            offered = [c for c in commands if any(w in c.split(": ")[-1] for w in WORDS)]
            assert not offered, f"{mode} palette: {offered}"
            assert not any("Setup" in c for c in commands)  # the guided setup is absent
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            help_text = screen_text(app)
            assert not [w for w in ("Save", "Remove", "Pin", "Apply") if w in help_text]
            await pilot.press("escape")
            await settle(pilot)
            # and the keys themselves do nothing
            for key_name in ("ctrl+s", "a", "x", "e", "p", "c", "ctrl+n"):
                await pilot.press(key_name)
                await settle(pilot)
                if isinstance(app.screen, PlanScreen):  # the dashboard's p: reading
                    await pilot.press("escape")
                    await settle(pilot)
                assert getattr(app.screen, "AREA", None) == mode, f"{key_name} left {mode}"
        assert visited == ["dashboard", "operators", "runtimes", "nix", "deployments"]
        await pilot.press("4")  # no setup area
        await settle(pilot)
        assert getattr(app.screen, "AREA", None) == "deployments"
    assert demo_copy.read_bytes() == before


async def test_reading_stays(demo_copy: Path, make_app: AppFactory) -> None:
    """Plans, configurations and history stay readable."""
    app = make_app(demo_copy, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert "Plan: 14 to create" in screen_text(app)
        assert "configuration.nix (new)" in screen_text(app)
        await pilot.press("h")
        await settle(pilot)
        assert "No deployments recorded yet." in screen_text(app)
        await pilot.press("5")
        await settle(pilot)
        assert "configuration.nix" in screen_text(app)


async def test_the_user_setting_makes_every_session_read_only(
    demo_copy: Path, make_app: AppFactory
) -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("# support laptop\nread_only = true\n")
    remember_theme("fedi-light")  # remembering a theme keeps the other settings
    assert "read_only = true" in settings_path().read_text()
    assert "# support laptop" in settings_path().read_text()
    app = make_app(demo_copy)
    assert app.read_only and is_read_only()
    with pytest.raises(ReadOnlyRefused):  # the core refuses, whatever the screens offer
        save_state(load_state(demo_copy), [Edit(("provider", "name"), "x")])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in screen_text(app)
        assert app.theme == "fedi-light"


def test_without_the_setting_sessions_can_write(demo_copy: Path, make_app: AppFactory) -> None:
    remember_setting("read_only", False)
    app = make_app(demo_copy)
    assert not app.read_only and not is_read_only()
