"""Small helpers for driving the app with Pilot."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TypeVar

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from fedi_tui.core.state import file as statefile
from fedi_tui.tui.app import FediApp

S = TypeVar("S", bound=Screen[object])


def held_load(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make the app's reading of the state file wait until the returned event is set."""
    release = threading.Event()
    real = statefile.load_state

    def held(path: Path) -> statefile.LoadedState:
        assert release.wait(10)
        return real(path)

    monkeypatch.setattr(statefile, "load_state", held)
    return release


async def settle(pilot: Pilot[object]) -> None:
    """Let workers finish and the screen catch up, the footer included."""
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await footer_caught_up(pilot)


FOOTER_PAUSES = 400
"""How many idle turns a footer gets to show its screen's keys (each turn yields to the loop)."""


async def footer_caught_up(pilot: Pilot[object]) -> None:
    """Wait until each footer shows the keys its screen has now.

    A footer redraws its keys on the refresh after the bindings change; on a loaded machine
    that refresh can come after a plain pause, so a screenshot would catch an empty or stale
    footer. This waits on what the footer shows, not on time."""
    for _ in range(FOOTER_PAUSES):
        if all(_footer_current(f) for f in pilot.app.screen.query(Footer)):
            return
        await pilot.pause()
    raise AssertionError("the footer never showed the screen's keys")


def _footer_current(footer: Footer) -> bool:
    screen = footer.screen
    wanted: dict[str, bool] = {}  # one key per action, as the footer draws it
    for _node, binding, enabled, _tip in screen.active_bindings.values():
        if binding.show:
            wanted.setdefault(binding.action, enabled)
    shown = {key.action: not key._disabled for key in footer.query(FooterKey)}
    if footer.show_command_palette and screen.app.ENABLE_COMMAND_PALETTE:
        found = screen.active_bindings.get(screen.app.COMMAND_PALETTE_BINDING)
        if found is not None:
            wanted.setdefault(found[1].action, found[2])
    return shown == wanted


async def type_into(pilot: Pilot[object], selector: str, text: str) -> None:
    """Focus an input, clear it with keys and type the text, as a person would."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    await pilot.press("end", *(["backspace"] * len(widget.value)))
    await pilot.press(*[_key(c) for c in text])


def _key(char: str) -> str:
    names = {" ": "space", ".": "full_stop", "@": "at", "-": "minus", "_": "underscore"}
    return names.get(char, char)


def fedi(pilot: Pilot[object]) -> FediApp:
    assert isinstance(pilot.app, FediApp)
    return pilot.app


def text_of(widget: Widget) -> str:
    return str(widget.render())


async def open_area(pilot: Pilot[object], key: str, screen_type: type[S]) -> S:
    """Press an area's key, let it settle, and return its screen (checked to be that type)."""
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type), f"{key} opened {screen!r}"
    return screen


def screen_text(app: App[object]) -> str:
    """What the terminal shows now, as plain text (the same rendering as a screenshot)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    screen = app.screen
    console.print(screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
