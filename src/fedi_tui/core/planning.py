"""The whole pipeline from a loaded state to a plan: map, render, diff.

Reading files (recorded state, module files, facts) is left to the caller so
this stays a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_tui.core.configuration import Configuration
from fedi_tui.core.errors import FediError
from fedi_tui.core.facts import ObservedFacts
from fedi_tui.core.mapping import PlacementError, map_resources
from fedi_tui.core.plan import Plan, make_plan
from fedi_tui.core.recorded import RecordedState, load_recorded
from fedi_tui.core.render import RenderedMachine, module_files, render_all
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.statedir import state_dir
from fedi_tui.core.statemodel import StateSpec, validate_data


@dataclass(frozen=True)
class Planned:
    config: Configuration
    rendered: Mapping[str, RenderedMachine]
    plan: Plan


def plan_state(
    spec: StateSpec,
    recorded: RecordedState,
    modules: Mapping[str, str],
    *,
    facts: ObservedFacts | None = None,
    prune_data: bool = False,
    operator: str | None = None,
) -> Planned:
    config = map_resources(spec, recorded, facts)
    if operator is not None:
        config = config.only_operator(operator)
        recorded = recorded.only_operator(operator)
    rendered = render_all(spec, config, modules)
    return Planned(config, rendered, make_plan(config, rendered, recorded, prune_data=prune_data))


def plan_line(data: dict[str, Any], state_path: Path, *, operator: str | None = None) -> str:
    """One line for screens: what applying this state (plain data) would change.

    Reads the recorded state beside `state_path` and the shipped NixOS modules.
    """
    spec, problems = validate_data(data)
    if spec is None:
        return f"plan: the state has {len(problems)} problem(s); fix them to see a plan"
    try:
        recorded = load_recorded(state_dir(state_path, spec))
        planned = plan_state(spec, recorded, module_files(nix_modules_dir()), operator=operator)
    except PlacementError as exc:
        return f"plan: cannot place every machine — {exc.reasons[0]}"
    except FediError as exc:
        return f"plan: unavailable — {exc}"
    if planned.plan.empty:
        return "plan: nothing to do — deployed state matches fedi.toml"
    return f"plan: {planned.plan.summary}"
