"""Helpers for plan tests: plan a state text against a recorded state, as the CLI does."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fedi_tui.core.deploy.effects import apply_plan_effects
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.pipeline import Planned, plan_state
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import module_files
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import validate_text
from fedi_tui.core.state.model import StateSpec
from tests.paths import DEMO_DEPLOY_KEY


@cache
def modules() -> dict[str, str]:
    return module_files(nix_modules_dir())


def spec_of(text: str) -> StateSpec:
    return validate_text(Path("fedi.toml"), text)[1]


TEST_DEPLOY_KEY = DEMO_DEPLOY_KEY.read_text().strip()
"""The deploy key plan cases render with, for every runtime: the demo's, so a plan made
here matches what the CLI renders for a copy of the demo."""


def deploy_keys(spec: StateSpec) -> dict[str, str]:
    return dict.fromkeys(spec.runtimes, TEST_DEPLOY_KEY)


def plan_text(
    text: str,
    recorded: RecordedState | None = None,
    facts: ObservedFacts | None = None,
    *,
    prune_data: bool = False,
    operator: str | None = None,
) -> Planned:
    spec = spec_of(text)
    return plan_state(
        spec,
        recorded or RecordedState(),
        modules(),
        deploy_keys=deploy_keys(spec),
        facts=facts,
        prune_data=prune_data,
        operator=operator,
    )


def applied(text: str, recorded: RecordedState | None = None) -> RecordedState:
    """The recorded state after planning `text` and applying every step as planned."""
    planned = plan_text(text, recorded)
    return apply_plan_effects(
        recorded or RecordedState(), planned.plan, planned.config, planned.rendered
    )
