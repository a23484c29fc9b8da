"""`?`: the keys of this screen first, then fedi-tui's everywhere, then the generic ones."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from fedi_tui.tui.widgets.filtertable import FilterTable

Row = tuple[str, str, str]
"""(keys, what it does, where it works)."""

EVERYWHERE: tuple[Row, ...] = (
    ("1 … 6", "go to an area (when not typing in a field)", "everywhere"),
    ("q", "quit (when no text field has focus)", "everywhere"),
    ("ctrl+q / ctrl+c", "quit; asks first if edits are not saved", "everywhere"),
    ("ctrl+p", "command palette: every action, themes", "everywhere"),
    ("?", "this help", "everywhere"),
    ("/", "filter the list that has focus", "lists"),
    ("j / k", "down / up", "lists"),
    ("tab / shift+tab", "next / previous field or list", "everywhere"),
    ("escape", "back: leave a field, filter, dialog, area", "everywhere"),
)


def everywhere(*, setup_only: bool) -> list[Row]:
    """fedi-tui's own keys that work on every screen (`fedi-tui setup` has no areas)."""
    if not setup_only:
        return list(EVERYWHERE)
    rows = [row for row in EVERYWHERE if row[0] != "1 … 6"]
    return [
        ("escape", "leave the guided setup (asks first)", "everywhere")
        if keys == "escape"
        else (keys, what, where)
        for keys, what, where in rows
    ]


def key_rows(app: App[Any], screen: Screen[Any]) -> tuple[list[Row], list[Row]]:
    """The active keys of `screen`: its own (fedi-tui's bindings) and the generic ones (the
    focused widget's, Textual's). The App's keys are left out: `everywhere` has them."""
    here: dict[str, tuple[list[str], str, str]] = {}
    generic: dict[str, tuple[list[str], str, str]] = {}
    own = _own_actions(type(screen))
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node is app or not binding.description or binding.action in ("help", "back"):
            continue  # the App's own keys, and Esc, are in the "everywhere" rows
        mine = active.node is screen and binding.action in own
        where = ("here" if mine else "focused") if active.enabled else "read-only: off"
        group = here if mine else generic
        shown = app.get_key_display(binding) or key
        keys, _, _ = group.setdefault(binding.action, ([], binding.description, where))
        if shown not in keys:
            keys.append(shown)

    def rows(group: dict[str, tuple[list[str], str, str]]) -> list[Row]:
        return [(" / ".join(keys), what, where) for keys, what, where in group.values()]

    return rows(here), rows(generic)


def _own_actions(screen_type: type[Screen[Any]]) -> set[str]:
    """Actions bound by fedi-tui's own screen classes (not by Textual's Screen)."""
    actions = set()
    for klass in screen_type.__mro__:
        if klass.__module__.startswith("fedi_tui."):
            for item in klass.__dict__.get("BINDINGS", ()):
                actions.add(item.action if isinstance(item, Binding) else item[1])
    return actions


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def __init__(
        self, area: str, rows: list[Row], everywhere: list[Row], generic: list[Row] | None = None
    ) -> None:
        super().__init__()
        self.area = area
        self.rows = rows
        """This screen's own keys."""
        self.everywhere = everywhere
        self.generic = list(generic or [])
        """Keys of the focused widget and Textual's (focus, copy …): listed last."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Keys — {self.area}", classes="dialog-title")
            yield FilterTable(("keys", "does", "where"), id="help-keys")
            yield Static("Esc closes · / filters · mouse optional", classes="help-hint")

    def on_mount(self) -> None:
        seen: set[str] = set()
        rows: list[tuple[str, Row]] = []
        for keys, what, where in [*self.rows, *self.everywhere, *self.generic]:
            if keys in seen:
                continue
            seen.add(keys)
            rows.append((f"{len(rows):02d}", (keys, what, where)))
        table = self.query_one(FilterTable)
        table.set_rows(rows)
        table.focus_table()

    def action_close(self) -> None:
        self.dismiss(None)
