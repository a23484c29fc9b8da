"""A long list shows its first screenful at once and the rest over the next frames."""

from __future__ import annotations

from textual.app import App, ComposeResult

from fedi_tui.tui.widgets import filtertable
from fedi_tui.tui.widgets.filtertable import FilterTable

ROWS = [(f"op-{n:04d}", (f"op-{n:04d}", f"op{n}.example.org")) for n in range(1000)]


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable(("operator", "domain"), id="t")


async def test_a_long_list_comes_in_batches_and_ends_complete() -> None:
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(ROWS)
        assert table.table.row_count == filtertable.FIRST_ROWS  # the first frame's share
        table.select("op-0900")  # not added yet: the cursor goes there once it is
        for _ in range(20):
            await pilot.pause()
            if table.table.row_count == len(ROWS):
                break
        assert table.table.row_count == len(ROWS)
        await pilot.pause()
        assert table.current_key == "op-0900"
        table.set_rows(ROWS[::-1])  # replaced while nothing is pending: the cursor stays
        for _ in range(20):
            await pilot.pause()
        assert table.table.row_count == len(ROWS)
        assert table.current_key == "op-0900"


async def test_rows_replaced_before_the_rest_came_are_not_mixed_in() -> None:
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(ROWS)
        table.set_rows(ROWS[:3])  # before the rest of the first list was added
        for _ in range(10):
            await pilot.pause()
        assert table.table.row_count == 3
