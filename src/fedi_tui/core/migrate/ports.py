"""What a migration needs from the outside besides the deploy ports: data movers and DNS.

Adapters implement them (the data primitives of `core.portability`, the DNS client
in `adapters/dns.py`); the CLI wires them (`cli/wiring.build_migration_ports`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from fedi_tui.core.deploy.ports import MachineShell

Progress = Callable[[str], None]
"""Receives one line of progress ('12 of 40 objects, 3.1 MB/s')."""


@dataclass(frozen=True)
class BucketAccess:
    """One bucket of one storage, with the app's own key for it."""

    storage: str
    bucket: str
    access_key_id: str
    secret: SecretStr


class DataMover(Protocol):
    """Moves an app instance's data between two deployments (each call idempotent)."""

    async def copy_database(
        self, source: MachineShell, target: MachineShell, database: str, progress: Progress
    ) -> str:
        """Dump `database` on the source and restore it on the target, streamed through
        fedi-tui's own connections; replaces what the target had. Returns a summary."""
        ...

    async def copy_objects(
        self, source: BucketAccess, target: BucketAccess, progress: Progress
    ) -> str:
        """Copy every object, verifying size and checksum; verified ones are skipped on a
        re-run. Returns a summary."""
        ...


class Resolver(Protocol):
    """Asks one DNS resolver (the configured address, nothing else)."""

    address: str
    """`ADDR:PORT`, for messages."""

    async def lookup(self, name: str, rtype: str) -> tuple[str, ...]:
        """The answers (addresses) for `name`; () for no such name or no record."""
        ...


@dataclass(frozen=True)
class MigrationPorts:
    data: DataMover
    resolver: Callable[[str], Resolver]
    """Makes the client of a resolver `ADDR:PORT` (FediError when it is not one)."""
