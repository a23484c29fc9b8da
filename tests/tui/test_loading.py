"""Opening the state file behind the first frame, as the `fedi-tui` command does."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.tui.screens.dashboard import DashboardScreen
from fedi_tui.tui.screens.loading import LoadingScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import fedi, held_load, settle


async def test_first_frame_comes_before_the_file_is_read(
    demo_copy: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = held_load(monkeypatch)
    app = make_app(demo_copy, preload=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)  # drawn while the file is still unread
        assert not fedi(pilot).loaded
        await pilot.press("2")  # area keys wait for the file
        assert isinstance(app.screen, LoadingScreen)
        release.set()
        await settle(pilot)
        assert fedi(pilot).loaded
        assert isinstance(app.screen, DashboardScreen)
        assert app.state.spec.provider.name == "Demo Hosting"


async def test_an_unusable_file_ends_the_tui_with_its_problems(
    tmp_path: Path, make_app: AppFactory
) -> None:
    bad = tmp_path / "fedi.toml"
    bad.write_text("schema = 1\n[provider]\nname = 5\n")
    app = make_app(bad, preload=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == 1
    assert app.load_error is not None
    assert "fedi.toml:3:1: provider.name: expected a string" in str(app.load_error)
