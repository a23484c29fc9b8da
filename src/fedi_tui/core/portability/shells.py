"""One SSH connection per machine for a data run, opened on first use, all closed at the end."""

from __future__ import annotations

import asyncio
import contextlib

from fedi_tui.core.deploy.ports import MachineShell, Ports
from fedi_tui.core.portability.instances import machine_endpoint
from fedi_tui.core.workspace import Workspace


class Shells:
    """`await shells.get(machine)`; `await shells.close()` when done."""

    def __init__(self, ws: Workspace, ports: Ports) -> None:
        self.ws, self.ports = ws, ports
        self.open: dict[str, MachineShell] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, machine: str) -> MachineShell:
        """The machine's connection (one login even when several tasks ask at once); an SSH
        connection carries several commands at the same time."""
        async with self._locks.setdefault(machine, asyncio.Lock()):
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
