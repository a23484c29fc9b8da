"""Plan wording: a `~` step never contradicts the summary; it says why it runs.

The summary counts resources (machines, buckets, keys). Pushing and activating
the configuration of a machine being created are `~` steps, but they are part
of creating that machine, so they say so instead of looking like a change the
summary forgot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.cli import main
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import Edit
from tests.unit.plan_cases.regenerate import HERE, case_options, facts, recorded, state_text
from tests.unit.plan_support import applied, plan_text

CASES = sorted(p for p in HERE.iterdir() if (p / "expected.json").exists())
CHANGED = "its configuration changed"


def _planned(case: Path) -> Planned | None:
    options = case_options(case)
    try:
        return plan_text(
            state_text(case),
            recorded(case),
            facts(case),
            prune_data=options.get("prune_data", False),
            operator=options.get("operator"),
        )
    except FediError:
        return None  # the cases that cannot be placed have no steps


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_configuration_step_says_why_and_agrees_with_the_summary(case: Path) -> None:
    planned = _planned(case)
    if planned is None:
        return
    plan = planned.plan
    config_steps = [s for s in plan.steps if s.kind in ("push-config", "activate")]
    for step in config_steps:
        assert step.detail.why, step.id
        assert f"{step.target}: {step.detail.why}" in step.describe()
    changed_machines = {s.target for s in config_steps if s.detail.why == CHANGED}
    resized = {s.target for s in plan.steps if s.kind == "resize-vm"}
    quotas = {s.target for s in plan.steps if s.kind == "set-quota"}
    assert len(changed_machines | resized) + len(quotas) == plan.summary.change


def test_a_fresh_plan_says_why_its_change_steps_run(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-s", str(demo_copy), "plan", "--no-diff"]) == 2
    out = capsys.readouterr().out
    assert "Plan: 14 to create, 0 to change, 0 to destroy." in out
    tilde = [line.strip() for line in out.splitlines() if line.strip().startswith("~")]
    assert len(tilde) == 8
    assert all(": first configuration of a new machine" in line for line in tilde)


def test_a_changed_option_is_a_change_and_says_so(demo_copy: Path) -> None:
    recorded_state = applied(demo_copy.read_text())
    save_state(
        load_state(demo_copy),
        [Edit(("operators", "school", "apps", "mastodon", "site_title"), "Hillside")],
    )
    plan = plan_text(demo_copy.read_text(), recorded_state).plan
    assert str(plan.summary) == "0 to create, 1 to change, 0 to destroy"
    assert [s.describe().split(" (")[0] for s in plan.steps if s.action == "change"] == [
        f"push-config bare-1: {CHANGED}",
        f"activate bare-1: {CHANGED}",
    ]
