"""The log screen: follows a run's log written by another process, filters the whole log,
searches, jumps to the first error, saves the view; text from outside is shown visibly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from fedi_tui.core.deploy.history import read_log
from fedi_tui.core.views.logs import LogFilter, row
from fedi_tui.tui.screens import logs
from fedi_tui.tui.screens.logs import LogsScreen
from fedi_tui.tui.screens.prompt import PromptModal
from fedi_tui.tui.widgets.logview import LogView
from tests.fixtures.logs import line, run_events, write_log
from tests.tui.conftest import AppFactory
from tests.tui.helpers import screen_text, settle, type_into
from tests.tui.test_palette import palette_search

ROOT = Path(__file__).resolve().parents[2]

PRODUCER = """
import sys
from pathlib import Path
from fedi_tui.core.deploy.history import HistoryWriter
from tests.fixtures.logs import line, run_events, started
import os

writer = HistoryWriter(Path(sys.argv[1]), "20261202T080000Z-beef")
writer(started(pid=os.getpid()))
n = 0
for command in sys.stdin:  # "lines K": write K more lines; "finish": the rest of the run
    if command.startswith("lines"):
        for _ in range(int(command.split()[1])):
            writer(line(n, text=f"output {n}"))
            n += 1
    else:
        for event in list(run_events(0))[1:]:
            writer(event)
        writer.close()
        break
    print("ok", flush=True)
"""


async def wait_for(pilot: Pilot[object], done: Callable[[], bool], what: str) -> None:
    """Let the app run until `done()` (a deadline, not a timing goal)."""
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause(0.02)


class Producer:
    """A run writing its log in another process, one batch when told."""

    def __init__(self, state_dir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PRODUCER, str(state_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.path = state_dir / "deployments" / "20261202T080000Z-beef.jsonl"

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        if command != "finish":
            assert self.proc.stdout.readline() == "ok\n"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def producer(tmp_path: Path) -> Producer:
    made = Producer(tmp_path / "state")
    yield made  # type: ignore[misc]
    made.stop()


async def open_logs(pilot: Pilot[object], path: Path, **options: str) -> LogsScreen:
    await settle(pilot)
    screen = LogsScreen(path, **options)
    await pilot.app.push_screen(screen)
    await pilot.pause()
    await pilot.pause()
    return screen


def notes(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


def shown(screen: LogsScreen) -> list[str]:
    """The texts of the rows on screen now."""
    return [r.text for r in screen.log_view.visible_rows()]


async def test_follows_a_run_written_by_another_process_in_a_read_only_session(
    demo_copy: Path, make_app: AppFactory, producer: Producer
) -> None:
    producer.send("lines 5")
    app = make_app(demo_copy, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, producer.path)
        await wait_for(pilot, lambda: "output 4" in screen_text(app), "the first lines")
        for batch in range(3):
            producer.send("lines 40")
            last = f"output {5 + 40 * (batch + 1) - 1}"
            await wait_for(pilot, lambda last=last: last in screen_text(app), last)  # type: ignore[misc]
            assert shown(screen)[-1].endswith(last)  # following: the newest line at the bottom
        assert "following" in screen_text(app)
        producer.send("finish")
        await wait_for(pilot, lambda: screen.store.finished, "the end of the run")
        await wait_for(pilot, lambda: "finished: failed" in screen_text(app), "the outcome")
        # the status can say so a batch before the run's last line is drawn: wait for that line
        # to arrive at the bottom (still following)
        await wait_for(
            pilot,
            lambda: shown(screen)[-1].startswith("deployment 20261202T080000Z-beef failed"),
            "the run's last line at the bottom",
        )


async def test_pause_keeps_the_view_still_while_lines_arrive(
    demo_copy: Path, make_app: AppFactory, producer: Producer
) -> None:
    producer.send("lines 50")
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, producer.path)
        await wait_for(pilot, lambda: "output 49" in screen_text(app), "the first lines")
        await pilot.press("f")
        assert "paused" in screen_text(app)
        before = shown(screen)
        producer.send("lines 30")
        await wait_for(pilot, lambda: "81 of 81 lines" in screen_text(app), "the new lines counted")
        assert shown(screen) == before  # still where it was
        await pilot.press("f")  # follow again: to the newest line
        await pilot.pause()
        assert shown(screen)[-1].endswith("output 79")


async def test_jump_to_the_first_error(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(500))
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("e")
        await pilot.pause()
        view = screen.log_view
        assert view.cursor is not None
        current = view.row_at(view.cursor)
        assert current.level == "error" and current.machine == "db-1"
        first = next(row(e) for e in read_log(path) if e.level == "error")
        assert current == first
        assert current.text in screen_text(app)
        assert not screen.following  # moving away from the end stops following


async def test_filter_and_invert_show_exactly_the_matching_lines_of_the_whole_log(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(5000))
    rows = [row(e) for e in read_log(path)]
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("slash")
        await type_into(pilot, "#logs-filter", "unit-1[0-2]")
        await pilot.press("enter")
        await pilot.pause()
        view = screen.log_view
        keep = LogFilter.make("unit-1[0-2]")
        want = [i for i, r in enumerate(rows) if keep.keeps(r)]
        assert list(view.view or ()) == want and view.count == len(want)
        assert all("unit-1" in t for t in shown(screen))
        assert f"{len(want):,} of {len(rows):,} lines" in screen_text(app)
        await pilot.press("i")
        await pilot.pause()
        keep = LogFilter.make("unit-1[0-2]", invert=True)
        want = [i for i, r in enumerate(rows) if keep.keeps(r)]
        assert list(view.view or ()) == want
        assert not any("unit-10" in t or "unit-11" in t for t in shown(screen))
        assert "not /unit-1[0-2]/" in screen_text(app)


async def test_a_bad_regex_says_so_and_keeps_the_view(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(50))
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("slash")
        await type_into(pilot, "#logs-filter", "unit-(")
        await pilot.press("enter")
        await pilot.pause()
        assert "not a regular expression" in screen_text(app)
        assert screen.log_view.view is None


async def test_machine_filter_goes_through_each_machine_then_all(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(300))
    rows = [row(e) for e in read_log(path)]
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        for machine in ("web-1", "db-1", "media-1"):
            await pilot.press("m")
            await pilot.pause()
            want = [i for i, r in enumerate(rows) if r.machine == machine]
            assert list(screen.log_view.view or ()) == want
            assert {r.machine for r in screen.log_view.visible_rows()} == {machine}
            assert f"machine: {machine}" in screen_text(app)
        await pilot.press("m")
        await pilot.pause()
        assert screen.log_view.view is None and screen.log_view.count == len(rows)
        await pilot.press("l", "l", "l")  # level: info, warning, error
        await pilot.pause()
        assert [r.level for r in screen.log_view.visible_rows()] == ["error", "error", "error"]


async def test_opened_on_one_machine(tmp_path: Path, demo_copy: Path, make_app: AppFactory) -> None:
    path = write_log(tmp_path, run_events(100))
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path, machine="media-1")
        assert {r.machine for r in screen.log_view.visible_rows()} == {"media-1"}


async def test_search_next_and_previous_wrap_around(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(400))
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("g", "ctrl+f")
        await type_into(pilot, "#logs-search", "line 3[0-9]9 ")
        await pilot.press("enter")
        await pilot.pause()
        view = screen.log_view
        texts = [view.row_at(p).text for p in screen.hits]
        numbers = [int(re.findall(r"line (\d+)", t)[0]) for t in texts]
        assert numbers == list(range(309, 400, 10))
        assert view.cursor == screen.hits[0]
        assert "search /line 3[0-9]9 /: 1/10" in screen_text(app)
        await pilot.press("n", "n")
        assert view.cursor == screen.hits[2]
        await pilot.press("N", "N", "N")  # back past the first: wraps to the last
        assert view.cursor == screen.hits[-1]
        await pilot.press("n")
        assert view.cursor == screen.hits[0]
        assert view.row_at(view.cursor).text in screen_text(app)


async def test_save_asks_for_a_file_and_writes_the_filtered_view(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(200))
    out = tmp_path / "saved.log"
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("m")  # web-1 only
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptModal)
        field = prompt.query_one("#prompt-value", Input)
        assert field.value.endswith("20261202T080000Z-beef.log")  # a name is proposed
        field.value = str(out)  # (typing a long temp path key by key is slow)
        await pilot.press("enter")
        await settle(pilot)  # written in a thread
        assert app.screen is screen
        width = screen.store.machine_width()
        want = [row(e).plain(width) for e in read_log(path) if e.machine == "web-1"]
        assert out.read_text(encoding="utf-8").splitlines() == want
        assert f"{len(want):,} lines written to {out}." in notes(app)
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one("#prompt-value", Input).value = str(tmp_path / "no" / "such.log")
        await pilot.press("enter")
        await settle(pilot)
        assert any("cannot write (No such file or directory)" in n for n in notes(app))


async def test_a_filter_over_a_big_log_runs_in_a_thread_and_gives_the_same_lines(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "SYNC_LINES", 100)
    path = write_log(tmp_path, run_events(3000))
    rows = [row(e) for e in read_log(path)]
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("slash")
        await type_into(pilot, "#logs-filter", "unit-1[0-2]")
        await pilot.press("enter")
        await settle(pilot)
        keep = LogFilter.make("unit-1[0-2]")
        assert list(screen.log_view.view or ()) == [i for i, r in enumerate(rows) if keep.keeps(r)]
        assert "filtering" not in screen_text(app)


async def test_escape_sequences_from_the_machines_are_shown_visibly(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    events = [*run_events(0)]
    events.insert(1, line(0, text="\x1b]0;pwned\x07\x1b[2Kcleared \u202eevil"))
    path = write_log(tmp_path, events)
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_logs(pilot, path)
        text = screen_text(app)
        assert "\\x1b]0;pwned\\x07\\x1b[2Kcleared \\u202eevil" in text
        assert "\x1b" not in text.replace("\x1b[", "")  # only the terminal's own colours


async def test_every_action_is_in_the_footer_help_and_palette(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(300))
    app = make_app(demo_copy)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await open_logs(pilot, path)
        footer = screen_text(app).splitlines()[-1]
        for label in ("Follow/pause", "Filter", "Invert", "Machine", "Level", "Search"):
            assert label in footer
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = screen_text(app)
        for label in ("Follow/pause", "First error", "Next match", "Save view", "Level"):
            assert label in help_text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        found = await palette_search(pilot, "first error")
        assert found[0] == "First error"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.log_view.cursor is not None


async def test_long_lines_scroll_sideways(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    events = list(run_events(0))
    events.insert(1, line(0, text="start " + "x" * 200 + " THE-END"))
    path = write_log(tmp_path, events)
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_logs(pilot, path)
        assert "THE-END" not in screen_text(app)
        await pilot.press(*["right"] * 20)
        await pilot.pause()
        text = screen_text(app)
        assert "THE-END" in text and "text scrolled by 160" in text
        assert "08:00:00 web-1" in text  # time and machine stay
        await pilot.press(*["left"] * 30)
        await pilot.pause()
        assert "start xxx" in screen_text(app)


async def test_escape_closes_the_screen(
    tmp_path: Path, demo_copy: Path, make_app: AppFactory
) -> None:
    path = write_log(tmp_path, run_events(10))
    app = make_app(demo_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot, path)
        await pilot.press("slash", "escape")  # from the filter back to the lines …
        assert app.screen is screen and isinstance(app.focused, LogView)
        await pilot.press("escape")  # … and out
        await pilot.pause()
        assert app.screen is not screen


async def test_logs_follow_and_the_screen_show_the_same_lines_of_a_running_deployment(
    demo_copy: Path, make_app: AppFactory
) -> None:
    """Support staff: `fedi-tui logs --follow` and a `--read-only` TUI, both on a run another
    process is writing, with the same filter, print exactly the same lines."""
    producer = Producer(demo_copy.parent / ".fedi")
    try:
        producer.send("lines 30")
        command = [sys.executable, "-m", "fedi_tui", "-s", str(demo_copy), "logs", "--follow"]
        follow = subprocess.Popen(
            [*command, "--machine", "db-1", "--grep", "output [0-9]*[02468]$"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        app = make_app(demo_copy, read_only=True)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_logs(pilot, producer.path, machine="db-1")
            await pilot.press("slash")
            await type_into(pilot, "#logs-filter", "output [0-9]*[02468]$")
            await pilot.press("enter")
            assert follow.stdout is not None
            first = follow.stdout.readline()  # --follow prints while the run goes on
            assert first.rstrip("\n").endswith("output 4")
            producer.send("lines 60")
            producer.send("finish")
            out = follow.stdout.read()  # (communicate() would lose what readline buffered)
            assert follow.wait(timeout=60) == 0, follow.stderr.read() if follow.stderr else ""
            await wait_for(pilot, lambda: screen.store.finished, "the end of the run")
            await wait_for(pilot, lambda: "finished" in screen_text(app), "the screen to catch up")
            view = screen.log_view
            on_screen = [view.row_at(p).plain() for p in range(view.count)]
        printed = [first.rstrip("\n"), *out.splitlines()]
        assert printed == on_screen
        assert len(printed) == 15  # db-1 has every third line; half of those end in an even digit
    finally:
        producer.stop()
