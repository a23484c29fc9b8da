"""`?`: every key that works here, and the ones that work everywhere."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from fedi_tui.tui.widgets.filtertable import FilterTable

Row = tuple[str, str, str]
"""(keys, what it does, where it works)."""

EVERYWHERE: tuple[Row, ...] = (
    ("1 … 5", "go to Dashboard, Operators, Runtimes, Setup, Nix", "everywhere"),
    ("ctrl+p", "command palette: every action by name, themes", "everywhere"),
    ("?", "this help", "everywhere"),
    ("/", "filter the list that has focus", "lists"),
    ("j / k", "down / up", "lists"),
    ("tab / shift+tab", "next / previous field or list", "everywhere"),
    ("escape", "back (close a dialog, leave a filter, return to the dashboard)", "everywhere"),
    ("q", "quit (when no text field has focus)", "everywhere"),
    ("ctrl+q", "quit; asks first if edits are not saved", "everywhere"),
)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def __init__(self, area: str, rows: list[Row]) -> None:
        super().__init__()
        self.area = area
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Keys — {self.area}", classes="dialog-title")
            yield FilterTable(("keys", "does", "where"), id="help-keys")
            yield Static("Esc closes · / filters · mouse optional", classes="help-hint")

    def on_mount(self) -> None:
        seen: set[str] = set()
        rows: list[tuple[str, Row]] = []
        for keys, what, where in [*self.rows, *EVERYWHERE]:
            if keys in seen:
                continue
            seen.add(keys)
            rows.append((f"{len(rows):02d}", (keys, what, where)))
        table = self.query_one(FilterTable)
        table.set_rows(rows)
        table.focus_table()

    def action_close(self) -> None:
        self.dismiss(None)
