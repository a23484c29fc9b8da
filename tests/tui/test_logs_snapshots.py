"""Snapshots of the log screen with a filter (regex and one machine), at 80x24 and 120x40.

Regenerate with `pytest tests/tui/test_logs_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from fedi_tui.tui.screens.logs import LogsScreen
from tests.fixtures.logs import line, run_events, write_log
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle, type_into

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("size", SIZES)
def test_logs_with_a_filter(
    size: str,
    tmp_path: Path,
    demo_copy: Path,
    make_app: AppFactory,
    snap_compare: Callable[..., bool],
) -> None:
    events = list(run_events(400))
    events.insert(5, line(1, text="\x1b[31mred\x1b[0m from unit-1 (escapes shown)"))
    path = write_log(tmp_path / "state", events)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.app.push_screen(LogsScreen(path))
        await pilot.pause()
        await pilot.press("m", "m")  # db-1
        await pilot.press("slash")
        await type_into(pilot, "#logs-filter", "unit-1")
        await pilot.press("enter", "g")  # from the top
        await pilot.press("ctrl+f")
        await type_into(pilot, "#logs-search", "line 3")
        await pilot.press("enter")
        await pilot.pause()

    app = make_app(demo_copy, theme="fedi-dark")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
