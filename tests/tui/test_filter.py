"""The `/` filter of every list: what is typed shows, in every area, at both sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from fedi_tui.tui.screens.operators import OperatorsScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, screen_text, settle

AREAS = {
    "dashboard": (),
    "operators": ("2",),
    "runtimes": ("3",),
    "setup": ("4",),
    "nix": ("5",),
    "help": ("?",),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("area", AREAS)
async def test_what_is_typed_into_the_filter_shows(
    area: str, size: tuple[int, int], demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in AREAS[area]:
            await pilot.press("question_mark" if key == "?" else key)
            await settle(pilot)
        await pilot.press("slash", "x", "q", "z")
        await settle(pilot)
        assert "xqz" in screen_text(app)


async def test_keys_typed_right_after_slash_go_to_the_filter(
    demo_copy: Path, make_app: AppFactory
) -> None:
    """A fast typist (or tmux send-keys): "/xqz" arrives before `/` has focused the filter.
    The "x" must be text for the filter, not Remove; "q" must not quit."""
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "2", OperatorsScreen)
        for key, char in (("slash", "/"), ("x", "x"), ("q", "q"), ("z", "z")):
            app.post_message(events.Key(key, char))  # all queued at once, as a terminal sends
        await settle(pilot)
        assert app.screen is screen and app.return_code is None
        assert screen.query_one("#operator-list Input", Input).value == "xqz"
