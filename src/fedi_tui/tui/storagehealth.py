"""The dashboard's storage health column: each storage asked, in an App job, through the
ports the CLI wires (never on the first frame's path; never from the TUI's own adapters)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedi_tui.core.views.storagestatus import StorageReport
    from fedi_tui.tui.app import FediApp

REFRESH_SECONDS = 60.0
"""How often the dashboard asks again while it is open."""


def ask_storage_health(app: FediApp, shown: Callable[[Mapping[str, StorageReport]], None]) -> None:
    """Ask every storage of the shown state for its report; `shown` gets them by name.
    Without ports (tests, `setup`) or without storages nothing is asked."""
    factory = app.ports
    loaded = app.state
    if factory is None or loaded is None or not loaded.spec.storage:
        return

    def work() -> dict[str, StorageReport]:
        from fedi_tui.core.views.storagestatus import gather_reports

        workspace = app.workspace(loaded)

        async def ask() -> list[StorageReport]:
            ports = factory(workspace)
            try:
                return await gather_reports(workspace, sorted(loaded.spec.storage), ports.storage)
            finally:
                await ports.close()

        return {r.name: r for r in asyncio.run(ask())}

    def done(reports: dict[str, StorageReport]) -> None:
        if app.state is loaded:  # else the file changed meanwhile: the next ask shows it
            shown(reports)

    app.start_job(work, name="ask the storages for their health", group="storage-health", done=done)
