"""A table with vim keys and a `/` filter: every list in fedi-tui is one of these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Key
from textual.message import Message
from textual.widgets import DataTable, Input
from textual.widgets.data_table import RowDoesNotExist

Cell = str | Text
FIRST_ROWS = 80
"""Rows added at once (more than a screen shows); the rest follow after the frame."""
MORE_ROWS = 400
"""Rows added per frame after the first."""


class VimTable(DataTable[Cell]):
    """DataTable with j/k (and g/G) for people whose fingers live there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]


class FilterTable(Vertical):
    """Rows keyed by a string; `/` opens a filter that keeps rows containing the text."""

    DEFAULT_CSS = """
    FilterTable { height: auto; }
    FilterTable > Input { display: none; height: 1; padding: 0 1; background: $boost; }
    FilterTable.-filtering > Input { display: block; }
    FilterTable > VimTable { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("slash", "filter", "Filter", show=False)]

    class Highlighted(Message):
        """The cursor moved to the row with this key (None: no rows)."""

        def __init__(self, table: FilterTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FilterTable:
            return self.table

    class Chosen(Message):
        """Enter was pressed on the row with this key."""

        def __init__(self, table: FilterTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FilterTable:
            return self.table

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns = tuple(columns)
        self._rows: list[tuple[str, tuple[Cell, ...]]] = []
        self._query = ""
        self._pending: list[tuple[str, tuple[Cell, ...]]] = []
        """Rows still to be added (after the next frames)."""
        self._wanted: str | None = None
        """A key to put the cursor on once its row is added."""
        self._batch = 0

    def compose(self) -> ComposeResult:
        # compact: one line, no border (a bordered Input in one line shows only its border)
        yield Input(
            placeholder="filter: type to narrow, Enter to go back to the list", compact=True
        )
        table = VimTable(cursor_type="row", zebra_stripes=False)
        table.add_columns(*self._columns)
        yield table

    @property
    def table(self) -> VimTable:
        return self.query_one(VimTable)

    @property
    def current_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Replace the rows, keeping the cursor on the same key when it is still there."""
        self._rows = [(key, tuple(cells)) for key, cells in rows]
        self._show()

    def select(self, key: str) -> None:
        table = self.table
        try:
            table.move_cursor(row=table.get_row_index(key))
        except RowDoesNotExist:
            if self._pending:
                self._wanted = key  # among the rows still to come
        else:
            self._wanted = None

    def focus_table(self) -> None:
        self.table.focus()

    def _show(self) -> None:
        table = self.table
        keep = self._wanted or self.current_key
        table.clear()
        needle = self._query.casefold()
        rows = [
            (key, cells)
            for key, cells in self._rows
            if not needle or any(needle in str(c).casefold() for c in (key, *cells))
        ]
        # a screenful now, the rest after the frame: a long list does not hold the screen up
        self._pending = rows[FIRST_ROWS:]
        for key, cells in rows[:FIRST_ROWS]:
            table.add_row(*cells, key=key)
        if keep is not None:
            self.select(keep)
        if self._pending:
            self._batch += 1
            self.call_after_refresh(self._add_more, self._batch)
        self.post_message(self.Highlighted(self, self.current_key))

    def _add_more(self, batch: int) -> None:
        if batch != self._batch or not self._pending:
            return  # rows replaced meanwhile
        table = self.table
        more, self._pending = self._pending[:MORE_ROWS], self._pending[MORE_ROWS:]
        for key, cells in more:
            table.add_row(*cells, key=key)
        wanted = self._wanted
        if wanted is not None and any(key == wanted for key, _ in more):
            self.select(wanted)
            self.post_message(self.Highlighted(self, self.current_key))
        if self._pending:
            self.call_after_refresh(self._add_more, batch)
        else:
            self._wanted = None

    def action_filter(self) -> None:
        box = self.query_one(Input)
        self.add_class("-filtering")
        box.display = True
        # focus now, not after the next refresh: keys typed right after `/` are the filter's
        self.screen.set_focus(box)

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._query = event.value
        self._show()

    @on(Input.Submitted)
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def on_key(self, event: Key) -> None:
        box = self.query_one(Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            event.prevent_default()
            box.value = ""
            self.remove_class("-filtering")
            box.display = False
            self.screen.set_focus(self.table)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value
        self.post_message(self.Highlighted(self, str(key) if key is not None else None))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self, str(event.row_key.value)))
