"""The dashboard's storage health column asks the real storage (the Garage stand-in)
through the ports the CLI wires, in a job, and says how each storage is."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.screen import Screen

from fedi_tui.sandbox.garage import GarageStandIn
from fedi_tui.tui.widgets.filtertable import FilterTable
from tests.adapters.test_storage_status import write_state
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle

pytestmark = pytest.mark.real


def _health(screen: Screen[object]) -> dict[str, str]:
    table = screen.query_one("#storage", FilterTable).table
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[4]) for i in range(table.row_count)
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_healthy_and_a_degraded_storage(
    garage: GarageStandIn, tmp_path: Path, make_app: AppFactory
) -> None:
    state = write_state(tmp_path, garage.storage_toml("garage-a"))
    app = make_app(state)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _health(app.screen) == {"garage-a": "healthy (3/3 nodes)"}
        garage.set_health("degraded")
        app.screen._ask_storage()  # what the refresh timer does
        await settle(pilot)
        assert _health(app.screen)["garage-a"].startswith("DEGRADED")


async def test_an_unreachable_storage_says_so_without_delaying_the_screen(
    garage: GarageStandIn, tmp_path: Path, make_app: AppFactory
) -> None:
    entry = garage.storage_toml("garage-a").replace(
        garage.admin_endpoint, f"https://127.0.0.1:{_closed_port()}"
    )
    state = write_state(tmp_path, entry)
    app = make_app(state)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert _health(app.screen)["garage-a"] in ("asking…", "unreachable")
        await settle(pilot)
        assert _health(app.screen) == {"garage-a": "unreachable"}


async def test_without_ports_nothing_is_asked(tmp_path: Path, make_app: AppFactory) -> None:
    state = write_state(
        tmp_path,
        '[storage.garage-a]\nkind = "garage"\ns3_endpoint = "https://127.0.0.1:1"\n'
        'admin_endpoint = "https://127.0.0.1:1"\nadmin_token = { env = "NOPE" }\n',
    )
    app = make_app(state, ports=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _health(app.screen) == {"garage-a": "unknown"}
