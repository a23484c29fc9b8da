"""The Nix preview at 80x24: long lines wrap (nothing is cut), and the keys scroll it."""

from __future__ import annotations

from pathlib import Path

from fedi_tui.tui.screens.nixpreview import NixScreen, NixView
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, screen_text, settle


async def test_long_lines_wrap_instead_of_being_cut(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "5", NixScreen)
        view = screen.query_one(NixView)
        longest = max(view.text.splitlines(), key=len)
        assert len(longest) > view.content_size.width  # would be cut without wrapping
        assert view.max_scroll_x == 0
        head, tail = longest.split()[0], longest.split()[-1]  # rows break between words
        await pilot.press("enter")
        for _ in range(view.document.line_count):  # scroll down until the line's end shows
            if tail in screen_text(app):
                break
            await pilot.press("j")
        text = screen_text(app)
        assert head in text and tail in text  # all of it on screen: its end on a wrapped row


async def test_jk_arrows_and_g_scroll_the_preview(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "5", NixScreen)
        view = screen.query_one(NixView)
        assert view.max_scroll_y > 5
        await pilot.press("enter")  # from the machine list into the preview
        assert app.focused is view
        await pilot.press("j", "j", "j")
        await settle(pilot)
        assert view.scroll_y == 3
        await pilot.press("k", "down", "down", "up")
        await settle(pilot)
        assert view.scroll_y == 3
        await pilot.press("G")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y
        await pilot.press("g")
        await settle(pilot)
        assert view.scroll_y == 0
        await pilot.press("escape")  # back to the machine list, still in the area
        await settle(pilot)
        assert app.current_mode == "nix" and app.focused is not view
        before = screen.query_one("#machines").current_key  # type: ignore[attr-defined]
        await pilot.press("j")
        await settle(pilot)
        assert screen.query_one("#machines").current_key != before  # type: ignore[attr-defined]
