"""The plan as the TUI shows it: the summary, the steps grouped by machine, each machine's
configuration diff (`fedi-tui plan` in a box).

Nothing secret is in a plan: steps name secrets, never their values, and a rendered
configuration points at secret files (the NixOS options ending in `File`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from fedi_tui.core.deploy.lanes import lanes_of
from fedi_tui.core.deploy.mapping import PlacementError
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.errors import FediError
from fedi_tui.core.workspace import Workspace

MARKS = {"create": "+", "change": "~", "destroy": "-", "check": "?"}


@dataclass(frozen=True)
class StepLine:
    mark: str
    """+ create, ~ change, - destroy, ? check."""
    text: str
    after: tuple[str, ...] = ()

    def plain(self) -> str:
        after = f"  (after {', '.join(self.after)})" if self.after else ""
        return f"{self.mark} {self.text}{after}"


@dataclass(frozen=True)
class PlanGroup:
    """The steps of one machine (or one storage lane) and, for a machine, its diff."""

    name: str
    title: str
    """'web-coop  (host1, 127.0.0.10)' or 'storage garage / bucket coop-media'."""
    steps: tuple[StepLine, ...]
    diff: str = ""
    """Unified diff of configuration.nix; for a new machine, the whole file as added."""
    other_files: tuple[str, ...] = ()
    """Other rendered files that change (the fediversity modules)."""


@dataclass(frozen=True)
class PlanView:
    summary: str
    """'Plan: 1 to create, …', 'Nothing to do: …', or why there is no plan."""
    groups: tuple[PlanGroup, ...] = ()
    notes: tuple[str, ...] = ()
    planned: Planned | None = None
    """The plan itself, for Apply; None when there is none (an error, nothing to do)."""

    @property
    def can_apply(self) -> bool:
        return self.planned is not None and not self.planned.plan.empty


def plan_view(workspace: Workspace, *, operator: str | None = None) -> PlanView:
    """The plan of the whole provider (or one operator) of this workspace."""
    try:
        planned = workspace.plan(operator=operator)
    except PlacementError as exc:
        reasons = tuple(f"  {r}" for r in exc.reasons)
        return PlanView("Cannot place every machine:", notes=reasons)
    except FediError as exc:
        return PlanView(f"No plan: {exc}")
    plan = planned.plan
    notes = tuple(f"note: bucket {b} of a removed app is kept" for b in plan.kept_buckets)
    if plan.empty:
        return PlanView("Nothing to do: the recorded state matches fedi.toml.", notes=notes)
    desired = Desired(planned.config, planned.rendered, workspace.spec, workspace.modules)
    diffs = {d.machine: d for d in plan.diffs}
    groups = []
    for lane in lanes_of(plan.steps, desired, planned.recorded):
        lines = tuple(
            StepLine(MARKS[s.action], s.describe(), tuple(s.depends_on)) for s in lane.steps
        )
        if lane.machine is None:
            groups.append(PlanGroup(lane.name, lane.name, lines))
            continue
        groups.append(
            PlanGroup(
                lane.machine,
                _machine_title(planned, lane.machine),
                lines,
                _diff_text(planned, lane.machine, diffs.get(lane.machine)),
                diffs[lane.machine].changed_files if lane.machine in diffs else (),
            )
        )
    return PlanView(f"Plan: {plan.summary}.", tuple(groups), notes, planned)


def _machine_title(planned: Planned, name: str) -> str:
    try:
        m = planned.config.machine(name)
    except StopIteration:
        return f"{name}  (being removed)"
    where = ", ".join(str(p) for p in (m.runtime, m.node, m.address) if p)
    return f"{name}  ({where})"


def _diff_text(planned: Planned, name: str, diff: object) -> str:
    text = getattr(diff, "diff", "")
    if text or diff is None or name not in planned.rendered:
        return str(text)
    after = planned.rendered[name].files["configuration.nix"]  # a new machine: all of it
    return "".join(
        difflib.unified_diff(
            [], after.splitlines(keepends=True), "/dev/null", f"{name}/configuration.nix (new)"
        )
    )


def plan_text(workspace: Workspace) -> str:
    """The summary, then one line per step in order (+ create, ~ change, - destroy, ? check)."""
    view = plan_view(workspace)
    if view.planned is None:
        return "\n".join((view.summary, *view.notes))
    steps = view.planned.plan.steps
    lines = [view.summary, ""]
    lines += [StepLine(MARKS[s.action], s.describe(), s.depends_on).plain() for s in steps]
    return "\n".join((*lines, *view.notes))
