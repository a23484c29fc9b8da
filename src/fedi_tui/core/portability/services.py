"""An app instance's units stopped and started on its machine, and its health check.

For restore and migration: the units that write an app's data (`DataNeed`) are
stopped before its data is replaced and started afterwards, through the runtime's
`deploy.services_command` (`systemctl` by default); the health check is the one
apply uses (`deploy.health`), retried until `deploy.health_timeout`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

from fedi_tui.core.deploy.ports import LineSink, MachineShell
from fedi_tui.core.deploy.steps.health import wait_healthy
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.instances import InstanceData


async def units(
    shell: MachineShell,
    inst: InstanceData,
    verb: Literal["stop", "start"],
    on_line: LineSink | None = None,
) -> tuple[str, ...]:
    """Stop or start the instance's units (none: nothing runs); returns the units."""
    names = inst.stop_units if verb == "stop" else inst.start_units
    if names:
        async with asyncio.timeout(inst.deploy.command_timeout):
            await shell.run(inst.units_argv(verb, names), on_line=on_line)
    return names


async def healthy(shell: MachineShell, inst: InstanceData, log: Callable[[str], None]) -> None:
    """Wait until the instance passes its health check (FediError after health_timeout)."""
    deadline = time.monotonic() + inst.deploy.health_timeout
    complaint = await wait_healthy(shell, inst.health_argv(), deadline, log)
    if complaint:
        raise FediError(
            f"{inst.key} on {inst.machine.name} is not healthy "
            f"after {inst.deploy.health_timeout} s: {complaint}"
        )
