"""Write a plan case's recorded.json and expected.json from its inputs — then REVIEW the diff.

    python -m tests.unit.plan_cases.regenerate CASE [CASE …]

A case directory holds:
  state.toml      the desired state (or `base = true` in case.toml to use ../base.toml)
  case.toml       optional: before = "<file>" (recorded = applying that state's plan),
                  applied_steps = N (apply only the first N steps: a half-applied run),
                  prune_data = true, operator = "<id>", and edits = [[key, value], …]
                  applied to the state text
  facts.json      optional observed facts
  recorded.json   the recorded state the plan starts from (written here)
  expected.json   the expected steps and summary, or the expected error (written here)
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.unit.plan_support import plan_text

from fedi_tui.core.deploy.effects import record_step
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.recorded import RecordedState, dump_recorded, parse_recorded
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.tomledit import Edit, apply_edits, apply_to_data

HERE = Path(__file__).parent


def case_options(case: Path) -> dict[str, Any]:
    path = case / "case.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def edited(text: str, edits: list[list[Any]]) -> str:
    changes = [Edit(tuple(k.split(".")), v) for k, v in edits]
    return apply_edits(text, changes, apply_to_data(tomllib.loads(text), changes))


def state_text(case: Path) -> str:
    options = case_options(case)
    own = case / "state.toml"
    text = own.read_text() if own.exists() else (HERE / "base.toml").read_text()
    return edited(text, options.get("edits", []))


def facts(case: Path) -> ObservedFacts | None:
    path = case / "facts.json"
    return ObservedFacts.model_validate_json(path.read_text()) if path.exists() else None


def recorded(case: Path) -> RecordedState:
    path = case / "recorded.json"
    return parse_recorded(path.read_text(), path) if path.exists() else RecordedState()


def run(case: Path) -> dict[str, Any]:
    """Plan the case; the expected.json form."""
    options = case_options(case)
    try:
        planned = plan_text(
            state_text(case),
            recorded(case),
            facts(case),
            prune_data=options.get("prune_data", False),
            operator=options.get("operator"),
        )
    except FediError as exc:
        return {"error": str(exc)}
    plan = planned.plan
    return {
        "summary": str(plan.summary),
        "steps": [
            f"{s.id}" + (f" <- {', '.join(s.depends_on)}" if s.depends_on else "")
            for s in plan.steps
        ],
        "kept_buckets": list(plan.kept_buckets),
    }


def write_recorded(case: Path) -> None:
    options = case_options(case)
    before = options.get("before")
    if before is None:
        return
    before_text = edited((HERE / before).read_text(), options.get("before_edits", []))
    planned = plan_text(before_text)
    state = RecordedState()
    limit = options.get("applied_steps", len(planned.plan.steps))
    for step in planned.plan.steps[:limit]:
        state = record_step(state, step, planned.config, planned.rendered)
    (case / "recorded.json").write_text(dump_recorded(state))


def main(names: list[str]) -> None:
    for name in names:
        case = HERE / name
        write_recorded(case)
        (case / "expected.json").write_text(json.dumps(run(case), indent=2) + "\n")
        print(f"wrote {case}; review `git diff {case}`")


if __name__ == "__main__":
    main(sys.argv[1:])
