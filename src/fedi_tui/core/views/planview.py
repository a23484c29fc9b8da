"""The plan of the saved state in words, for the TUI's plan view (`fedi-tui plan` in a box)."""

from __future__ import annotations

from fedi_tui.core.deploy.mapping import PlacementError
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.workspace import Workspace

MARKS = {"create": "+", "change": "~", "destroy": "-", "check": "?"}


def plan_text(loaded: LoadedState) -> str:
    """The summary, then one line per step in order (+ create, ~ change, - destroy, ? check)."""
    try:
        planned = Workspace.from_loaded(loaded).plan()
    except PlacementError as exc:
        return "Cannot place every machine:\n" + "\n".join(f"  {r}" for r in exc.reasons)
    except FediError as exc:
        return f"No plan: {exc}"
    plan = planned.plan
    if plan.empty:
        return "Nothing to do: the recorded state matches fedi.toml."
    lines = [f"Plan: {plan.summary}.", ""]
    for step in plan.steps:
        after = f"  (after {', '.join(step.depends_on)})" if step.depends_on else ""
        lines.append(f"{MARKS[step.action]} {step.describe()}{after}")
    lines += [f"note: bucket {b} of a removed app is kept" for b in plan.kept_buckets]
    return "\n".join(lines)
