"""The migration screen: opened from Operators with `m`, run, paused, resumed to the end.

The real app (`build_app`, the CLI's ports) on the two providers; the migration runs
on the App (a worker thread), the screen shows its phases from the event stream.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Input, Select, Static

from fedi_tui.cli.wiring import build_ports
from fedi_tui.tui.factory import build_app
from fedi_tui.tui.screens.migrate import MigrateScreen
from fedi_tui.tui.screens.operators import OperatorsScreen
from tests.migrate.conftest import Providers
from tests.migrate.test_migrate_flow import deployed_with_data, record
from tests.tui.helpers import settle, text_of

pytestmark = [pytest.mark.real, pytest.mark.slow]


def test_run_pause_and_resume_from_the_migration_screen(providers: Providers) -> None:
    p = providers
    deployed_with_data(p)  # DNS still points at the source: the run waits in its DNS phase
    app = build_app(p.path, prober=None, ports=build_ports, remember_theme=False)

    async def drive() -> None:
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.press("2")
            await settle(pilot)
            assert isinstance(app.screen, OperatorsScreen)
            await pilot.press("m")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MigrateScreen)
            screen.query_one("#mig-runtime", Select).value = "host-b"
            screen.query_one("#mig-storage", Select).value = "garage-b"
            screen.query_one("#mig-resolver", Input).value = p.resolver
            await settle(pilot)
            plan = text_of(screen.query_one("#mig-plan", Static))
            assert "mastodon.coop.test  A  127.0.0.20 → 127.0.0.21" in plan
            screen.query_one("#mig-phases", DataTable).focus()
            await pilot.press("r")
            for _ in range(1200):  # until the run waits for DNS (a known place to pause in)
                if record(p)["phases"]["dns"]["state"] == "running":
                    break
                await pilot.pause(0.1)
            await pilot.press("p")  # pause: the DNS wait stops at its next check
            await settle(pilot)
            assert record(p)["status"] == "running"
            assert record(p)["phases"]["dns"]["message"] == "paused"
            assert record(p)["phases"]["objects"]["state"] == "done"
            p.dns.point("mastodon.coop.test", "127.0.0.21")
            await pilot.pause(0.3)
            assert "interrupted: paused" in text_of(screen.query_one("#mig-status", Static))
            await pilot.press("r")  # resume
            await settle(pilot)
            await pilot.pause(0.3)
            assert record(p)["status"] == "migrated"
            table = screen.query_one("#mig-phases", DataTable)
            marks = [table.get_row_at(n)[0] for n in range(table.row_count)]
            assert marks == ["✓"] * 7
            assert "status migrated" in text_of(screen.query_one("#mig-status", Static))

    asyncio.run(drive())
    assert p.pg_b.table_checksums("mastodon") == p.pg_a.table_checksums("mastodon")
