"""One SSH connection per machine for a data run, opened on first use, all closed at the end."""

from __future__ import annotations

import contextlib

from fedi_tui.core.deploy.ports import MachineShell, Ports
from fedi_tui.core.portability.instances import machine_endpoint
from fedi_tui.core.workspace import Workspace


class Shells:
    """`await shells.get(machine)`; `await shells.close()` when done."""

    def __init__(self, ws: Workspace, ports: Ports) -> None:
        self.ws, self.ports = ws, ports
        self.open: dict[str, MachineShell] = {}

    async def get(self, machine: str) -> MachineShell:
        if machine not in self.open:
            self.open[machine] = await self.ports.machines.connect(
                machine_endpoint(self.ws, machine)
            )
        return self.open[machine]

    async def close(self) -> None:
        for shell in self.open.values():
            with contextlib.suppress(Exception):  # closing is best effort
                await shell.close()
        self.open.clear()
