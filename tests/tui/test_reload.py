"""The state file is watched: an edit on disk is shown ("reloaded"); an invalid one is not
taken (its problems are shown, the last good view stays)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from fedi_tui.tui.app import FediApp
from fedi_tui.tui.screens.dashboard import DashboardScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import screen_text, settle


async def until(pilot: Pilot[object], what: str, check: Callable[[], bool]) -> None:
    for _ in range(100):  # 10 s of app time at most; the watch looks every 0.5 s
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"never happened: {what}\n{screen_text(pilot.app)}")


def notes(app: FediApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_an_edit_on_disk_is_shown(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "Hillside Hosting" not in screen_text(app)
        text = demo_copy.read_text()
        name = app.state.spec.provider.name
        demo_copy.write_text(text.replace(f'name = "{name}"', 'name = "Hillside Hosting"', 1))
        await until(pilot, "the new name", lambda: "Hillside Hosting" in screen_text(app))
        assert app.state.spec.provider.name == "Hillside Hosting"
        assert any(n.startswith("Reloaded:") for n in notes(app))


async def test_an_invalid_file_on_disk_keeps_the_last_good_view(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        good = app.state
        demo_copy.write_text(demo_copy.read_text().replace("schema = 1", "schema = 1\nbogus = 3"))
        await until(pilot, "the problems", lambda: any("not valid" in n for n in notes(app)))
        problem = next(n for n in notes(app) if "not valid" in n)
        assert "fedi.toml:" in problem and "bogus" in problem  # file:line: key: message
        assert "Still showing the last valid version" in problem
        assert app.state is good
        assert good.spec.provider.name in screen_text(app)


async def test_our_own_save_is_not_reloaded(demo_copy: Path, make_app: AppFactory) -> None:
    from fedi_tui.core.state.tomledit import Edit
    from fedi_tui.tui import messages
    from fedi_tui.tui.filewatch import signature

    app = make_app(demo_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.post_message(messages.SaveEdits([Edit(("provider", "name"), "Saved Here")], "name"))
        await until(pilot, "saved", lambda: app.state.spec.provider.name == "Saved Here")
        saved = app.state
        watch = app.file_watch
        assert watch is not None
        await until(pilot, "the watch saw the save", lambda: watch.last == signature(demo_copy))
        await settle(pilot)
        assert app.state is saved  # not read again
        assert not any(n.startswith("Reloaded:") for n in notes(app))
