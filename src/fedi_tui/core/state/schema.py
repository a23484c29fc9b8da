"""Versions of the fedi.toml format and the steps that upgrade older files.

A migration from version N to N+1 returns key-level edits, so an upgrade keeps
the file's comments and layout like any other save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fedi_tui.core.errors import SchemaTooNew
from fedi_tui.core.state.tomledit import Edit, apply_to_data

CURRENT = 1
"""The version this program writes."""

Migration = Callable[[dict[str, Any]], list[Edit]]
MIGRATIONS: dict[int, Migration] = {}
"""MIGRATIONS[n] turns a version-n file into version n+1."""


def upgrade_edits(data: dict[str, Any], where: str, current: int | None = None) -> list[Edit]:
    """Edits that bring `data` to the current schema; [] when it is current.

    Raises SchemaTooNew for a version this program does not know.
    """
    target = CURRENT if current is None else current
    found = data.get("schema")
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        return []  # validation reports it with its position
    if found > target:
        raise SchemaTooNew(
            f"{where}: schema = {found} is newer than this fedi-tui understands (up to {target}); "
            "install a newer fedi-tui to work on this file"
        )
    edits: list[Edit] = []
    for version in range(found, target):
        step = MIGRATIONS[version](apply_to_data(data, edits))
        edits += [*step, Edit(("schema",), version + 1)]
    return edits
