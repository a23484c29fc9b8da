"""The first frame: shown while the state file is read and checked behind it."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static


class LoadingScreen(Screen[None]):
    """Says which file is being opened; replaced by the first area once it is read."""

    CSS_PATH = "loading.tcss"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(f"fedi-tui — reading {self.path}", id="loading-text")
            yield LoadingIndicator()
