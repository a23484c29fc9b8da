"""The whole pipeline from a loaded state to a plan: map, render, diff.

Reading files (recorded state, module files, facts) is left to the caller so
this stays a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fedi_tui.core.configuration import Configuration
from fedi_tui.core.facts import ObservedFacts
from fedi_tui.core.mapping import map_resources
from fedi_tui.core.plan import Plan, make_plan
from fedi_tui.core.recorded import RecordedState
from fedi_tui.core.render import RenderedMachine, render_all
from fedi_tui.core.statemodel import StateSpec


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
