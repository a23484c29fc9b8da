"""From desired state to a plan: map, render, diff — pure functions of their inputs.

Reading files (the state file, recorded state, module files, facts) is left to
the caller; `core.workspace.Workspace` does that once and caches the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fedi_tui.core.deploy.configuration import Configuration
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.plan import Plan, make_plan
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import RenderedMachine, render_all
from fedi_tui.core.state.model import StateSpec


@dataclass(frozen=True)
class Planned:
    """A plan with the configuration and rendering it was made from."""

    config: Configuration
    rendered: Mapping[str, RenderedMachine]
    plan: Plan
    recorded: RecordedState
    """The recorded state the plan starts from (one operator's part with an operator)."""


def plan_from(
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
    recorded: RecordedState,
    *,
    operator: str | None = None,
    prune_data: bool = False,
) -> Planned:
    """The plan for a mapped and rendered configuration, optionally for one operator."""
    if operator is not None:
        config = config.only_operator(operator)
        recorded = recorded.only_operator(operator)
        rendered = {m.name: rendered[m.name] for m in config.machines}
    plan = make_plan(config, rendered, recorded, prune_data=prune_data)
    return Planned(config, rendered, plan, recorded)


def plan_state(
    spec: StateSpec,
    recorded: RecordedState,
    modules: Mapping[str, str],
    *,
    deploy_keys: Mapping[str, str],
    facts: ObservedFacts | None = None,
    prune_data: bool = False,
    operator: str | None = None,
) -> Planned:
    """Map, render and plan in one go (for callers without a Workspace); `deploy_keys` by
    runtime name, as `core.deploy.deploykey.read_deploy_keys` reads them."""
    config = map_resources(spec, recorded, facts)
    if operator is not None:
        config = config.only_operator(operator)
    rendered = render_all(spec, config, modules, deploy_keys)
    return plan_from(config, rendered, recorded, operator=operator, prune_data=prune_data)
