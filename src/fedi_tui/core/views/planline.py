"""The one-line plan summary the screens show (dashboard, the wizard's review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedi_tui.core.deploy.mapping import PlacementError
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.model import validate_data
from fedi_tui.core.workspace import Workspace


def summary_line(workspace: Workspace, *, operator: str | None = None) -> str:
    """What applying the workspace's state would change, in one line."""
    try:
        planned = workspace.plan(operator=operator)
    except PlacementError as exc:
        return f"plan: cannot place every machine — {exc.reasons[0]}"
    except FediError as exc:
        return f"plan: unavailable — {exc}"
    if planned.plan.empty:
        return "plan: nothing to do — deployed state matches fedi.toml"
    return f"plan: {planned.plan.summary}"


def plan_line(data: dict[str, Any], state_path: Path, *, operator: str | None = None) -> str:
    """The same for plain data (maybe an unsaved draft) of the state file at `state_path`.

    Reads the recorded state beside `state_path`, the runtimes' deploy keys and the
    shipped NixOS modules (through a Workspace on the draft).
    """
    spec, problems = validate_data(data)
    if spec is None:
        return f"plan: the state has {len(problems)} problem(s); fix them to see a plan"
    try:
        workspace = Workspace.from_loaded(LoadedState(state_path, "", data, spec, ""))
    except FediError as exc:
        return f"plan: unavailable — {exc}"
    return summary_line(workspace, operator=operator)
