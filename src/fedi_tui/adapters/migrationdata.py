"""The data movers of a migration (databases over SSH, objects between S3 endpoints).

Placeholder until the portability primitives (core/portability) are in this tree:
every call says so instead of moving anything.
"""

from __future__ import annotations

from fedi_tui.core.deploy.ports import MachineShell
from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.ports import BucketAccess, DataMover, Progress


class _Missing:
    async def copy_database(
        self, source: MachineShell, target: MachineShell, database: str, progress: Progress
    ) -> str:
        raise FediError("moving databases is not available in this build of fedi-tui")

    async def copy_objects(
        self, source: BucketAccess, target: BucketAccess, progress: Progress
    ) -> str:
        raise FediError("copying objects is not available in this build of fedi-tui")


def data_mover() -> DataMover:
    return _Missing()
