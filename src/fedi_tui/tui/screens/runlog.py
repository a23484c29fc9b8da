"""Opening a deployment's log: the log screen (`tui.screens.logs.LogsScreen`) when it is
there, else this minimal follower of the JSON-lines file (all lines, newest at the end)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Log, Static


def log_screen(log_path: Path, *, machine: str | None = None) -> Screen[Any]:
    """The screen that shows (and follows) one deployment's log."""
    try:
        module = importlib.import_module("fedi_tui.tui.screens.logs")
    except ImportError:
        return RunLogScreen(log_path, machine=machine)
    screen: Screen[Any] = module.LogsScreen(log_path, machine=machine)
    return screen


class RunLogScreen(ModalScreen[None]):
    """Every line of the log as `fedi-tui logs` prints it, followed while it grows."""

    CSS_PATH = "runlog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]
    POLL = 0.25

    def __init__(self, log_path: Path, *, machine: str | None = None) -> None:
        super().__init__()
        self.log_path = log_path
        self.machine = machine
        self._offset = 0
        self._pending = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Log of {self.log_path.stem}", classes="dialog-title", markup=False)
            yield Log(max_lines=10_000, id="run-log")
            yield Static("Esc closes · `fedi-tui logs --follow` shows the same", classes="hint")

    def on_mount(self) -> None:
        self._read()
        self.set_interval(self.POLL, self._read)
        self.query_one(Log).focus()

    def _read(self) -> None:
        from fedi_tui.core.deploy.events import event_from_json
        from fedi_tui.core.views.logs import row

        try:
            with self.log_path.open(encoding="utf-8") as f:
                f.seek(self._offset)
                chunk = f.read()
                self._offset = f.tell()
        except OSError:
            return
        text = self._pending + chunk
        *whole, self._pending = text.split("\n")
        lines = []
        for raw in whole:
            try:
                r = row(event_from_json(raw))
            except (ValueError, TypeError):
                continue
            if self.machine is None or r.machine == self.machine:
                lines.append(r.plain())
        if lines:
            self.query_one(Log).write_lines(lines)

    def action_close(self) -> None:
        self.dismiss(None)
