"""The Textual application: owns the loaded state and the long-running jobs."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from fedi_tui.core.statefile import LoadedState
from fedi_tui.tui.screens.dashboard import DashboardScreen


class FediApp(App[None]):
    """fedi-tui's terminal UI on one state file."""

    TITLE = "fedi-tui"
    CSS_PATH = "tcss/app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, loaded: LoadedState, *, read_only: bool = False) -> None:
        super().__init__()
        self.loaded = loaded
        self.read_only = read_only
        self.sub_title = str(loaded.path) + ("  [read-only]" if read_only else "")

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen(self.loaded))
