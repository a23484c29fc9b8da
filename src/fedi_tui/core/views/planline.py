"""The one-line plan summary the screens show (dashboard, the wizard's review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.mapping import PlacementError, map_resources
from fedi_tui.core.deploy.pipeline import plan_state
from fedi_tui.core.deploy.recorded import load_recorded
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.model import validate_data
from fedi_tui.core.state.statedir import state_dir
from fedi_tui.core.workspace import shipped_modules


def plan_line(data: dict[str, Any], state_path: Path, *, operator: str | None = None) -> str:
    """What applying this state (plain data, maybe an unsaved draft) would change.

    Reads the recorded state beside `state_path`, the runtimes' deploy keys and the
    shipped NixOS modules.
    """
    spec, problems = validate_data(data)
    if spec is None:
        return f"plan: the state has {len(problems)} problem(s); fix them to see a plan"
    try:
        recorded = load_recorded(state_dir(state_path, spec))
        machines = map_resources(spec, recorded).machines
        keys = read_deploy_keys(spec, state_path, (m.runtime for m in machines))
        planned = plan_state(spec, recorded, shipped_modules(), deploy_keys=keys, operator=operator)
    except PlacementError as exc:
        return f"plan: cannot place every machine — {exc.reasons[0]}"
    except FediError as exc:
        return f"plan: unavailable — {exc}"
    if planned.plan.empty:
        return "plan: nothing to do — deployed state matches fedi.toml"
    return f"plan: {planned.plan.summary}"
