"""The log screen: one deployment's log, followed live, filtered and searched over every line.

The log file is the source (the same file `fedi-tui logs --follow` reads), so
a `--read-only` session can follow a run another process started. A thread
indexes what the file grows by (`LogStore.poll`, a step of `READ_STEP` bytes
at a time, so it hands the interpreter back often); every `TICK` seconds a
timer hands the lines indexed since to the view, in one batch. (Reading within
the timer, with a time budget per tick, ingested half as fast for the same
frame intervals: tests/bench/bench_logs.py.)
"""

from __future__ import annotations

import bisect
import gc
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from fedi_tui.core.deploy.events import LEVELS, Level
from fedi_tui.core.errors import FediError
from fedi_tui.core.text import visible_line
from fedi_tui.core.views.logs import LogFilter
from fedi_tui.core.views.logstore import LogStore, step
from fedi_tui.tui.screens.prompt import PromptModal
from fedi_tui.tui.widgets.logview import LogView

TICK = 0.05
"""Seconds between two batches of new lines handed to the view."""
POLL = 0.05
"""Seconds the reading thread waits when the log has not grown."""
FIRST_READ = 0.2
"""Seconds spent reading before the first frame (a small log is then shown whole)."""
READ_STEP = 1 << 17
"""Bytes of the log read at a time within a tick's budget."""
SYNC_LINES = 200_000
"""Filters over logs up to this many lines run at once; bigger ones in a thread."""


_frozen = False


def _freeze_heap() -> None:
    """Once per process: move the objects alive now (the app, its modules) out of the
    garbage collector's reach. Following a busy log makes garbage fast; each full
    collection then walked the whole heap and held a frame back up to ~100 ms."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


class LogsScreen(Screen[None]):
    """A deployment's JSON-lines log (`history.log_path`), following it while it grows."""

    CSS_PATH = "logs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f", "follow", "Follow/pause"),
        Binding("slash", "filter", "Filter"),
        Binding("i", "invert", "Invert"),
        Binding("m", "machine", "Machine"),
        Binding("l", "level", "Level"),
        Binding("ctrl+f", "search", "Search"),
        Binding("n", "next_match", "Next match"),
        Binding("N", "previous_match", "Previous match"),
        Binding("e", "first_error", "First error"),
        Binding("g,home", "top", "Top", show=False),
        Binding("G,end", "bottom", "Bottom (follow)", show=False),
        Binding("s", "save", "Save view"),
    ]

    def __init__(self, log_path: Path, *, machine: str | None = None) -> None:
        super().__init__()
        self.log_path = log_path
        self.store = LogStore(log_path)
        self.keep = LogFilter(machine=machine)
        """The filter of the view (regex, invert, machine, level)."""
        self.following = True
        self.search: str = ""
        self.hits: list[int] = []
        """Positions (in the view) of the lines the search finds."""
        self._seen = 0
        """Lines of the store already handed to the view."""
        self._filter_error = ""
        self._done = False
        self._read_all = False
        self._busy = ""
        """What a thread is working out for the view ("filtering …")."""
        self._stop = threading.Event()
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="logs-title")
        yield LogView(self.store, id="logs-view")
        with Horizontal(id="logs-bar"):
            yield Static("filter /", classes="logs-label")
            yield Input(placeholder="regex, Enter applies", id="logs-filter")
            yield Static("search ^f", classes="logs-label")
            yield Input(placeholder="regex, Enter, then n/N", id="logs-search")
        yield Static("", id="logs-status")
        yield Footer(compact=True)

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        _freeze_heap()
        self.log_view.focus()
        self._read(FIRST_READ)  # what is there already, before the first frame
        self._seen = len(self.store)
        self._apply(self.keep)
        self.call_after_refresh(self._to_end)  # once the view knows its height
        self._timer = self.set_interval(TICK, self._catch_up)
        self.run_worker(self._reader, thread=True, group="log-read", exit_on_error=False)

    def on_unmount(self) -> None:
        self._stop.set()
        self.store.close()

    def _reader(self) -> None:
        """The reading thread: index what the log grows by until the run has ended."""
        try:
            while not self._stop.is_set():
                if self.store.poll(READ_STEP):
                    continue
                if not self.store.growing():
                    while self.store.poll(READ_STEP):  # what came with the last line
                        pass
                    return
                self._stop.wait(POLL)
        finally:
            self._read_all = True

    # --- following ------------------------------------------------------------------

    def _read(self, budget: float) -> None:
        """Index what the log grew by, for `budget` seconds at most."""
        deadline = time.perf_counter() + budget
        while self.store.poll(READ_STEP) and time.perf_counter() < deadline:
            pass

    def _catch_up(self) -> None:
        """Read what the log grew by and hand it to the view, in one batch."""
        if self._done:
            return
        total = len(self.store)
        view = self.log_view
        if total > self._seen:
            start, self._seen = self._seen, total
            if self._filtering():
                view.grow(total, self.store.select(self.keep, start, total))
            else:
                view.grow(total)
            if self.following:
                view.to_end()
        elif self._read_all:
            self._done = True  # the run has ended and every line is in the view
        self._show_status()

    def _to_end(self) -> None:
        if self.following:
            self.log_view.to_end()

    def _filtering(self) -> bool:
        k = self.keep
        return k.pattern is not None or k.machine is not None or k.level != "debug"

    # --- the filter -----------------------------------------------------------------

    def _apply(self, keep: LogFilter) -> None:
        """Show exactly the lines of the whole log `keep` keeps."""
        self.keep = keep
        upto = self._seen
        if not self._filtering():
            self.log_view.show(None, upto)
            self._filtered()
            return
        if upto <= SYNC_LINES:
            self._show_filtered(keep, self.store.select(keep, 0, upto), upto)
            return
        self._busy = "filtering …"
        self._show_status()

        def work() -> None:
            try:
                lines = self.store.select(keep, 0, upto)
            except (OSError, ValueError):
                if self.store.closed:
                    return  # the screen was closed meanwhile
                raise
            self.app.call_from_thread(self._show_filtered, keep, lines, upto)

        self.run_worker(work, thread=True, group="log-filter", exclusive=True, exit_on_error=False)

    def _show_filtered(self, keep: LogFilter, lines: list[int], upto: int) -> None:
        if keep is not self.keep or not self.is_attached:
            return  # a newer filter is on its way
        self._busy = ""
        lines += self.store.select(keep, upto, self._seen)
        self.log_view.show(lines, len(lines))
        self._filtered()

    def _filtered(self) -> None:
        self._find()
        if self.following:
            self.log_view.to_end()
        self._show_status()

    @on(Input.Submitted, "#logs-filter")
    def _filter_entered(self, event: Input.Submitted) -> None:
        try:
            keep = LogFilter.make(
                event.value or None,
                invert=self.keep.invert,
                machine=self.keep.machine,
                level=self.keep.level,
            )
        except FediError as error:
            self._filter_error = str(error).replace("--grep ", "filter ")
            self._show_status()
            return
        self._filter_error = ""
        self.log_view.focus()
        self._apply(keep)

    def action_filter(self) -> None:
        self.query_one("#logs-filter", Input).focus()

    def action_invert(self) -> None:
        k = self.keep
        self._apply(LogFilter(k.pattern, not k.invert, k.machine, k.level))

    def action_machine(self) -> None:
        """All machines → each machine in turn → all machines."""
        names = [m for m in self.store.machines if m]
        k = self.keep
        if k.machine is None:
            machine = names[0] if names else None
        elif k.machine in names and names.index(k.machine) + 1 < len(names):
            machine = names[names.index(k.machine) + 1]
        else:
            machine = None
        self._apply(LogFilter(k.pattern, k.invert, machine, k.level))

    def action_level(self) -> None:
        k = self.keep
        level: Level = LEVELS[(LEVELS.index(k.level) + 1) % len(LEVELS)]
        self._apply(LogFilter(k.pattern, k.invert, k.machine, level))

    # --- search ---------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#logs-search", Input).focus()

    @on(Input.Submitted, "#logs-search")
    def _search_entered(self, event: Input.Submitted) -> None:
        try:
            LogFilter.make(event.value or None)
        except FediError as error:
            self._filter_error = str(error).replace("--grep ", "search ")
            self._show_status()
            return
        self._filter_error = ""
        self.search = event.value
        self.log_view.focus()
        self._find()
        if self.hits:
            self._go(step(self.hits, self.log_view.scroll_offset.y - 1, forward=True)[0])
        self._show_status()

    def _find(self) -> None:
        view = self.log_view
        if not self.search:
            self.hits = []
            return
        pattern = LogFilter.make(self.search).pattern
        assert pattern is not None
        lines = view.view if view.view is not None else None
        self.hits = self.store.hits(pattern, lines) if view.count else []

    def _go(self, position: int | None) -> None:
        if position is None:
            return
        self.following = False
        self.log_view.set_cursor(position)
        self._show_status()

    def action_next_match(self) -> None:
        self._step(forward=True)

    def action_previous_match(self) -> None:
        self._step(forward=False)

    def _step(self, *, forward: bool) -> None:
        if not self.search:
            self.notify("Search first (ctrl+f).", title="Search")
            return
        self._find()  # the view may have grown
        position, wrapped = step(self.hits, self.log_view.cursor, forward=forward)
        if position is None:
            self.notify(f"No line matches {self.search!r}.", title="Search")
            return
        if wrapped:
            self.notify("Search wrapped around.", title="Search", timeout=2)
        self._go(position)

    def action_first_error(self) -> None:
        view = self.log_view
        position = self.store.first_error(view.view)
        if position is None:
            self.notify("No error in the lines shown.", title="Errors")
            return
        if view.view is None and position >= view.count:
            return
        self._go(position)

    # --- moving, saving ---------------------------------------------------------------

    @on(LogView.Shifted)
    def _shifted(self) -> None:
        self._show_status()

    def action_follow(self) -> None:
        self.following = not self.following
        if self.following:
            self.log_view.set_cursor(None)
            self.log_view.to_end()
        self._show_status()

    def action_top(self) -> None:
        self.following = False
        self.log_view.scroll_home(animate=False, immediate=True)
        self._show_status()

    def action_bottom(self) -> None:
        self.following = True
        self.log_view.to_end()
        self._show_status()

    def action_save(self) -> None:
        default = str(Path.cwd() / f"{self.log_path.stem}.log")
        prompt = PromptModal(
            "Save the lines shown",
            "Write the lines of this view (filter applied) to the file:",
            default,
        )
        self.app.push_screen(prompt, self._save_to)

    def _save_to(self, answer: str | None) -> None:
        """Write the lines shown, in a thread (a big view takes a while)."""
        if not answer:
            return
        path = Path(answer).expanduser()
        view = self.log_view.view
        lines: Sequence[int] = range(self.log_view.count) if view is None else list(view)
        shown = escape(visible_line(str(path)))

        def work() -> None:
            try:
                written = self.store.save(path, lines)
            except OSError as error:
                reason = escape(visible_line(error.strerror or str(error)))
                self.app.call_from_thread(
                    self.notify,
                    f"{shown}: cannot write ({reason}).",
                    title="Not saved",
                    severity="error",
                )
                return
            self.app.call_from_thread(
                self.notify, f"{written:,} lines written to {shown}.", title="Saved"
            )

        self.run_worker(work, thread=True, group="log-save", exit_on_error=False)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.log_view.focus()
            return
        self.dismiss(None)

    # --- the status lines ----------------------------------------------------------------

    def _show_status(self) -> None:
        view = self.log_view
        store = self.store
        name = escape(visible_line(self.log_path.name))
        if store.finished:
            state = f"finished: {store.outcome}"
        elif self.following:
            state = "following"
        else:
            state = "paused (f follows)"
        self._update(
            "#logs-title", f"[b]Log[/b] {name} · {view.count:,} of {len(store):,} lines · {state}"
        )
        k = self.keep
        parts = [f"machine: {escape(k.machine) if k.machine else 'all'}", f"level ≥ {k.level}"]
        if k.pattern is not None:
            parts.append(f"{'not ' if k.invert else ''}/{escape(visible_line(k.pattern.pattern))}/")
        elif k.invert:
            parts.append("invert (no filter)")
        if self.search:
            here = view.cursor
            at = bisect.bisect_left(self.hits, here) if here is not None else -1
            found = 0 <= at < len(self.hits) and self.hits[at] == here
            nth = f"{at + 1}/" if found else ""
            parts.append(f"search /{escape(visible_line(self.search))}/: {nth}{len(self.hits)}")
        if view.shift:
            parts.append(f"text scrolled by {view.shift} (← →)")
        if self._busy:
            parts.append(self._busy)
        if self._filter_error:
            parts.append(f"[b]{escape(visible_line(self._filter_error))}[/b]")
        self._update("#logs-status", " · ".join(parts))

    def _update(self, selector: str, text: str) -> None:
        """Update a status line only when its text changed (it is asked every tick)."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)
