"""The target placement of a migrating operator: a second view of the same state file.

The operator's runtime, storage (and domain) are swapped for the target's in a
copy of fedi.toml's data that is never saved; its recorded state is the state
directory's, with the operator's own records replaced by the slot's (what was
built on the target so far). Planning the operator on that view gives exactly
what is still missing on the target; the engine's records of it are saved into
the slot (`slot_part`), never into the state directory's recorded.json.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from fedi_tui.core.deploy.recorded import RecordedState, load_recorded
from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.record import MigrationRecord, Place, slot_dir
from fedi_tui.core.state.model import validate_data
from fedi_tui.core.workspace import Workspace


def placed_data(data: dict[str, Any], operator: str, place: Place) -> dict[str, Any]:
    """fedi.toml's data with the operator on `place` (a copy; the file is not touched)."""
    out = copy.deepcopy(data)
    entry = out["operators"][operator]
    entry["runtime"] = place.runtime
    entry["storage"] = place.storage
    entry["domain"] = place.domain
    return out


def without_apps(data: dict[str, Any], operator: str) -> dict[str, Any]:
    """The data with every app of the operator disabled (what removing it plans from)."""
    out = copy.deepcopy(data)
    for options in out["operators"][operator].get("apps", {}).values():
        if isinstance(options, dict):
            options["enable"] = False
    return out


def with_data(workspace: Workspace, data: dict[str, Any], recorded: RecordedState) -> Workspace:
    spec, problems = validate_data(data)
    if spec is None:
        key, message = problems[0]
        where = ".".join(map(str, key))
        raise FediError(
            f"{workspace.path}: with the operator moved, the state does not validate: "
            f"{where}: {message}"
        )
    loaded = replace(workspace.loaded, data=data, spec=spec)
    return Workspace(loaded, recorded, workspace.facts, workspace.modules)


def without_operator(recorded: RecordedState, operator: str) -> RecordedState:
    """Everything recorded but the operator's own machines, buckets, keys and secrets."""
    return recorded.model_copy(
        update={
            "machines": {k: m for k, m in recorded.machines.items() if operator not in m.operators},
            "buckets": {k: b for k, b in recorded.buckets.items() if b.operator != operator},
            "keys": {k: v for k, v in recorded.keys.items() if v.operator != operator},
            "secrets": {
                k: v for k, v in recorded.secrets.items() if not k.startswith(f"{operator}-")
            },
        }
    )


def overlay(base: RecordedState, top: RecordedState) -> RecordedState:
    """`base` with every record of `top` put over it."""
    return base.model_copy(
        update={
            "machines": {**base.machines, **top.machines},
            "buckets": {**base.buckets, **top.buckets},
            "keys": {**base.keys, **top.keys},
            "secrets": {**base.secrets, **top.secrets},
        }
    )


def slot_part(recorded: RecordedState, operator: str) -> RecordedState:
    """What of a target run's records belongs in the slot: the operator's records."""
    return recorded.only_operator(operator)


def slot_recorded(state_dir: Path, operator: str) -> RecordedState:
    return load_recorded(slot_dir(state_dir, operator))


def target_view(source: Workspace, record: MigrationRecord) -> Workspace:
    """The state with the operator on the target, recorded as far as the target is built."""
    data = placed_data(source.loaded.data, record.operator, record.target)
    recorded = overlay(
        without_operator(source.recorded, record.operator),
        slot_recorded(source.state_dir, record.operator),
    )
    return with_data(source, data, recorded)
