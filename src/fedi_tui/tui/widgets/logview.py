"""A virtual-scrolling view of a `LogStore`: only the visible lines are read and drawn.

The widget holds no text: a line is read back from the store when it scrolls
into view (the Line API: `render_line` per visible row), so a log of millions
of lines costs the store's columns and a cache of a few hundred strips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fedi_tui.core.views.logs import LogRow
from fedi_tui.core.views.logstore import LogStore


class LogView(ScrollView, can_focus=True):
    """Lines `view` of `store` (None: every line), a time and a machine column, levels coloured."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "logview--time",
        "logview--machine",
        "logview--debug",
        "logview--warning",
        "logview--error",
        "logview--cursor",
    }
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        overflow-x: hidden;
        & > .logview--time { color: $text-muted; }
        & > .logview--machine { color: $accent; }
        & > .logview--debug { color: $text-muted; }
        & > .logview--warning { color: $text-warning; }
        & > .logview--error { color: $text-error; text-style: bold; }
        & > .logview--cursor { background: $primary 40%; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_lines(1)", "Down", show=False),
        Binding("k,up", "scroll_lines(-1)", "Up", show=False),
        Binding("space,pagedown", "page(1)", "Page down", show=False),
        Binding("b,pageup", "page(-1)", "Page up", show=False),
        Binding("right", "shift(8)", "Scroll right", show=False),
        Binding("left", "shift(-8)", "Scroll left", show=False),
    ]

    class Shifted(Message):
        """The text column was scrolled sideways (`shift` changed)."""

    def __init__(self, store: LogStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.view: Sequence[int] | None = None
        self.count = 0
        """Lines in the view (all lines the store had when last told)."""
        self.cursor: int | None = None
        """Position of the highlighted line (the current search match)."""
        self._strips: LRUCache[int, Strip] = LRUCache(256)  # a few screens' worth
        self._styles: dict[str, Style] = {}
        self.shift = 0
        """Characters of the text column scrolled out on the left (long lines)."""

    # --- what is shown ---------------------------------------------------------------

    def show(self, view: Sequence[int] | None, count: int) -> None:
        """Show these lines (`view` None: lines 0..count of the store)."""
        self.view = view
        self.count = count if view is None else len(view)
        self.cursor = None
        self._changed()

    def grow(self, count: int, more: Sequence[int] = ()) -> None:
        """The store has `count` lines now; `more` are new positions of a filtered view."""
        if self.view is None:
            self.count = count
        elif more:
            assert isinstance(self.view, list)
            self.view.extend(more)
            self.count = len(self.view)
        else:
            return
        self.virtual_size = Size(self.scrollable_content_region.width, self.count)
        self.refresh()

    def line_at(self, position: int) -> int:
        return position if self.view is None else self.view[position]

    def row_at(self, position: int) -> LogRow:
        return self.store.row(self.line_at(position))

    def visible_rows(self) -> list[LogRow]:
        top = self.scroll_offset.y
        bottom = min(self.count, top + self.scrollable_content_region.height)
        return [self.row_at(p) for p in range(top, bottom)]

    def set_cursor(self, position: int | None) -> None:
        """Highlight this line and scroll it into view (a third from the top)."""
        self.cursor = position
        if position is not None:
            height = self.scrollable_content_region.height
            if not self.scroll_offset.y <= position < self.scroll_offset.y + height:
                self.scroll_to(
                    y=max(0, position - height // 3), animate=False, immediate=True, force=True
                )
        self._strips.clear()
        self.refresh()

    def _changed(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.count)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """The widget's style plus a component's (worked out once per theme/CSS change)."""
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name == "" else base + self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def on_resize(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.count)

    # --- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        position = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if position >= self.count:
            return Strip.blank(width, self._style(""))
        strip = self._strips.get(position)
        if strip is None:
            strip = self._render_row(position, width)
            self._strips[position] = strip
        return strip

    def _render_row(self, position: int, width: int) -> Strip:
        r = self.row_at(position)
        style = self._style
        cursor = "logview--cursor" if position == self.cursor else ""
        base = style(cursor)
        text_style = style(f"logview--{r.level}") if r.level != "info" else style("")
        if cursor:
            text_style += base
        segments = [
            Segment(
                f"{r.time} ", style("logview--time") + base if cursor else style("logview--time")
            )
        ]
        machine_width = self.store.machine_width()
        if machine_width:
            name = r.machine[:machine_width].ljust(machine_width)
            machine_style = style("logview--machine")
            segments.append(Segment(f"{name}  ", machine_style + base if cursor else machine_style))
        used = sum(len(s.text) for s in segments)  # the time and the names: one cell each
        room = max(0, width - used)
        text = r.text[self.shift :] if self.shift else r.text
        text = text if cell_len(text) <= room else set_cell_size(text, room)
        segments.append(Segment(text, text_style))
        pad = room - cell_len(text)
        if pad > 0:
            segments.append(Segment(" " * pad, base))
        return Strip(segments, width)

    # --- keys --------------------------------------------------------------------------

    def action_scroll_lines(self, lines: int) -> None:
        self.scroll_relative(y=lines, animate=False, immediate=True)

    def action_shift(self, columns: int) -> None:
        """Scroll the text column sideways (the time and machine columns stay)."""
        self.shift = max(0, self.shift + columns)
        self._strips.clear()
        self.refresh()
        self.post_message(self.Shifted())

    def action_page(self, pages: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=pages * height, animate=False, immediate=True)

    def to_end(self) -> None:
        """Scroll to the newest line, also when lines just arrived (no layout since: the
        scroll bar may not be there yet, hence force)."""
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
