"""The progress of a deployment: an overall bar and one row per machine."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, ProgressBar, Static

from fedi_tui.core.views.history import outcome_label
from fedi_tui.core.views.progress import RunProgress, format_elapsed, state_label

STATE_STYLES = {
    "done": "success",
    "failed": "error",
    "rolled-back": "warning",
    "interrupted": "warning",
    "skipped": "text-muted",
    "waiting": "text-muted",
}
"""Machine state → theme variable of its colour (the running ones: primary)."""


class ProgressTable(Vertical):
    """Shows a `RunProgress`; `show` redraws it (the elapsed times ask `clock`)."""

    DEFAULT_CSS = """
    ProgressTable {
        height: 1fr;
    }
    ProgressTable #run-title {
        height: auto;
    }
    ProgressTable ProgressBar {
        height: 1;
        margin: 0 0 1 0;
    }
    ProgressTable DataTable {
        height: 1fr;
    }
    """

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static("No deployment has run in this session.", id="run-title", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id="run-bar")
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=False)
        table.add_columns("machine", "state", "elapsed", "last line")
        yield table

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one(DataTable)

    def show(self, progress: RunProgress | None, *, cancelling: bool = False) -> None:
        title = self.query_one("#run-title", Static)
        bar = self.query_one(ProgressBar)
        table = self.table
        if progress is None:
            return
        if progress.outcome is not None:
            what = f"{outcome_label(progress.outcome)}: {progress.message}"
        elif cancelling:
            what = "cancelling: running steps are being stopped…"
        elif progress.started is None:
            what = "starting…"
        else:
            what = f"running: {progress.summary}"
        title.update(f"Deployment {progress.deployment or '…'} — {what}")
        bar.update(progress=progress.fraction)
        colours = self.app.theme_variables
        now = self.clock()
        row = table.cursor_row
        table.clear()
        for m in progress.machines.values():
            colour = colours.get(STATE_STYLES.get(m.state, "primary"), "")
            table.add_row(
                m.name,
                Text(state_label(m.state), style=colour),
                format_elapsed(m.elapsed(now)),
                Text(m.last_line, no_wrap=True, overflow="ellipsis"),
                key=m.name,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    @property
    def current_machine(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None
