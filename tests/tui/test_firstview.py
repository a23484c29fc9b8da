"""The dashboard drawn from the first-view cache before the state file is read, then
redrawn from the real state: the same screen, or the newer one if the file changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedi_tui.core.views.firstview import cache_file, read_first_view
from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.loading import LoadingScreen
from fedi_tui.tui.screens.operators import OperatorsScreen
from fedi_tui.tui.widgets.plansummary import PENDING
from tests.tui.conftest import AppFactory
from tests.tui.helpers import fedi, held_load, screen_text, settle

SIZE = (100, 30)


def _without_plan_line(text: str) -> str:
    """The plan line is worked out after every load, cache or not: left out of the match."""
    return "\n".join(line for line in text.splitlines() if "plan:" not in line)


async def _settled_text(make_app: AppFactory, state: Path) -> str:
    app = make_app(state, preload=False, ports=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        return screen_text(app)


async def test_a_hit_draws_what_the_loaded_state_draws(
    demo_copy: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert read_first_view(demo_copy).view is None
    missed = await _settled_text(make_app, demo_copy)  # a miss: the cache is written
    assert read_first_view(demo_copy).view is not None
    release = held_load(monkeypatch)
    app = make_app(demo_copy, preload=False, ports=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not fedi(pilot).loaded
        assert isinstance(app.screen, DashboardScreen)  # drawn from the cache
        cached = screen_text(app)
        assert PENDING in cached
        assert "coop" in cached  # an operator row
        release.set()
        await settle(pilot)
        assert fedi(pilot).loaded
        loaded = screen_text(app)
    assert _without_plan_line(cached) == _without_plan_line(loaded)
    assert loaded == missed


async def test_nothing_opens_from_the_cached_view_before_the_load(
    demo_copy: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter and p do nothing on the cached view; an area asked for shows "reading…" and
    opens, filled in, once the state is loaded."""
    await _settled_text(make_app, demo_copy)
    release = held_load(monkeypatch)
    app = make_app(demo_copy, preload=False, ports=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in ("enter", "p"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen), key
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)
        assert app.current_mode == "dashboard"
        assert "reading" in screen_text(app)
        await pilot.press("3")  # one area waits; the others are refused meanwhile
        await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)
        release.set()
        await settle(pilot)
        assert app.current_mode == "operators"
        assert isinstance(app.screen, OperatorsScreen)
        assert "coop" in screen_text(app)


async def test_an_edit_by_another_process_is_shown_after_the_load(
    demo_copy: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _settled_text(make_app, demo_copy)
    release = held_load(monkeypatch)
    app = make_app(demo_copy, preload=False, ports=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Demo Hosting" in screen_text(app)  # the cached view
        text = demo_copy.read_text(encoding="utf-8")
        demo_copy.write_text(text.replace("Demo Hosting", "Edited Elsewhere"), encoding="utf-8")
        release.set()
        await settle(pilot)
        shown = screen_text(app)
    assert "Edited Elsewhere" in shown
    assert "Demo Hosting" not in shown
    cached = json.loads(cache_file(demo_copy).read_text(encoding="utf-8"))
    assert "Edited Elsewhere" in cached["view"]["provider"]
    assert read_first_view(demo_copy).view is not None  # keyed by what was read: a hit now


FIRST_FRAME_MODULES = """
import sys
from pathlib import Path
from fedi_tui.tui.factory import build_app
from fedi_tui.tui.screens.dashboard import DashboardScreen

drawn = DashboardScreen.draw

def draw(self, view):
    drawn(self, view)
    if not self.fedi.loaded:
        watched = ("pydantic", "boto3", "botocore", "asyncssh", "proxmoxer")
        print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(watched))) or "-")
        print("HIT", flush=True)
    self.app.exit()

DashboardScreen.draw = draw
build_app(Path(sys.argv[1]), prober=None, remember_theme=False, preload=False).run(headless=True)
"""


def test_a_hit_draws_before_pydantic_or_any_adapter_is_imported(
    demo_copy: Path, make_app: AppFactory
) -> None:
    import asyncio

    asyncio.run(_settled_text(make_app, demo_copy))  # writes the cache
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_MODULES, str(demo_copy)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
        timeout=120,
    )
    lines = done.stdout.split()
    assert "HIT" in lines, done.stdout + done.stderr
    assert lines[0] == "-", f"imported before the first frame: {lines[0]}"


async def test_areas_and_back_after_a_hit(demo_copy: Path, make_app: AppFactory) -> None:
    """The dashboard made from the cache is the dashboard mode's screen for good: after the
    load, Nix, its help, Escape and 1 bring it back with its sections."""
    await _settled_text(make_app, demo_copy)
    app = make_app(demo_copy, preload=False, ports=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await settle(pilot)
        for key in ("5", "question_mark", "escape", "1"):
            await pilot.press(key)
            await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "Runtimes — capacity" in screen_text(app)
