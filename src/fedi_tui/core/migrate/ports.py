"""What a migration needs from the outside besides the deploy ports: a DNS client.

The data moves through the deploy ports themselves (`MachineShell.stream_out/in`,
`ObjectStore.bucket`) with the primitives of `core.portability`. The DNS client is
`adapters/dns.py`; the CLI wires it (`cli/wiring.build_migration_ports`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Resolver(Protocol):
    """Asks one DNS resolver (the configured address, nothing else)."""

    address: str
    """`ADDR:PORT`, for messages."""

    async def lookup(self, name: str, rtype: str) -> tuple[str, ...]:
        """The answers (addresses) for `name`; () for no such name or no record."""
        ...


@dataclass(frozen=True)
class MigrationPorts:
    resolver: Callable[[str], Resolver]
    """Makes the client of a resolver `ADDR:PORT` (FediError when it is not one)."""
