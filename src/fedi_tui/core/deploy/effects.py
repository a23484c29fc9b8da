"""What a completed step changes in the recorded state — through each step's handler.

The apply engine records each step as it succeeds, with what the outside world
reported (the VMID Proxmox used, the bucket id Garage returned); planning again
after any interruption then yields only what is left to do. Without
observations the planned values are recorded, which is how tests check that
applying a plan and planning again gives an empty plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedi_tui.core.deploy.configuration import Configuration
from fedi_tui.core.deploy.plan import Plan, Step
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import RenderedMachine
from fedi_tui.core.deploy.steps import handler_for
from fedi_tui.core.deploy.steps.base import Target


def record_step(
    recorded: RecordedState,
    step: Step,
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
    observed: Mapping[str, Any] | None = None,
) -> RecordedState:
    """The recorded state after `step` succeeded (with what it observed)."""
    return handler_for(step.kind).record(
        recorded, step, Target(config, rendered), dict(observed or {})
    )


def apply_plan_effects(
    recorded: RecordedState,
    plan: Plan,
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
) -> RecordedState:
    """The recorded state after every step of the plan succeeded as planned."""
    for step in plan.steps:
        recorded = record_step(recorded, step, config, rendered)
    return recorded
