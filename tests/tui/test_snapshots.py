"""Snapshots of every screen of the real app (sample-configs/demo.toml), two sizes, two themes.

Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle

SCREENS: dict[str, tuple[str, ...]] = {
    "dashboard": (),
    "operators": ("2",),
    "operators_mastodon": ("2", "right_square_bracket"),
    "runtimes": ("3",),
    "runtime_edit": ("3", "e"),
    "setup": ("4",),
    "setup_blocked": ("4", "ctrl+n"),
    "nix": ("5",),
    "help": ("2", "question_mark"),
    "confirm_remove": ("2", "x"),
    "filter": ("2", "slash", "c", "o"),
    "runtime_add": ("3", "a", "down", "enter"),
    "runtime_add_left": ("3", "a", "down", "enter", "B", "tab", "tab"),
    "plan": ("p",),
    "nix_read": ("5", "enter", "j", "j"),
    "migrate": ("2", "m"),
}
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
THEMES = {"dark": "fedi-dark", "hc": "fedi-high-contrast"}


def keys_then_settle(keys: tuple[str, ...]) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(
    screen: str,
    size: str,
    theme: str,
    demo_copy: Path,
    make_app: AppFactory,
    snap_compare: Callable[..., bool],
) -> None:
    app = make_app(demo_copy, theme=THEMES[theme])
    assert snap_compare(
        app, terminal_size=SIZES[size], run_before=keys_then_settle(SCREENS[screen])
    )


@pytest.mark.parametrize("size", SIZES)
def test_setup_alone(
    size: str, demo_copy: Path, make_app: AppFactory, snap_compare: Callable[..., bool]
) -> None:
    """`fedi-tui setup`: the wizard alone, then the question Esc asks."""
    app = make_app(demo_copy, mode="setup", setup_only=True, prober=None, theme="fedi-dark")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys_then_settle(("escape",)))
