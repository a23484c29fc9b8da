"""The plan the TUI asks about before an Apply that places VMs: made from what the Proxmox
runtimes report now (`core.deploy.livefacts`), as `fedi-tui apply` makes it.

`observing_text` is what the Deployments screen says while the clusters are asked;
`live_plan` asks them (through `Ports.capacity`) and plans again on their answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from fedi_tui.core.deploy.livefacts import Seen, describe_runtime, observe_capacity
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.views.planview import PlanView, plan_view
from fedi_tui.core.workspace import Workspace

Progress = Literal["observing", "observed", "failed"]


@dataclass(frozen=True)
class LivePlan:
    """The plan made from live facts, and the workspace holding those facts (for Apply)."""

    workspace: Workspace
    view: PlanView


def observing_text(runtimes: Mapping[str, Progress]) -> str:
    """'Observing Proxmox before applying: pve1 …, pve2 observed' (in the runtimes' order)."""
    words = {"observing": "…", "observed": "observed", "failed": "could not be observed"}
    said = ", ".join(f"{name} {words[state]}" for name, state in runtimes.items())
    return f"Observing Proxmox before applying (new VMs go where there is room now): {said}"


def unobservable_text(error: FediError) -> str:
    """What the screen says when a runtime could not be observed (one line per runtime)."""
    lines = "\n".join(f"  {line}" for line in str(error).splitlines())
    return (
        "Not applied: Proxmox could not be observed, as `fedi-tui apply` requires before "
        f"placing new VMs:\n{lines}\nNothing was changed; a asks again."
    )


def live_plan(
    workspace: Workspace,
    ports: Ports,
    runtimes: Sequence[str],
    *,
    operator: str | None = None,
    seen: Seen | None = None,
) -> LivePlan:
    """Observe `runtimes` through `ports.capacity` (closing `ports` after) and plan again on
    what they reported. FediError (one line per runtime) when any could not be observed.
    Blocking: call it from a thread."""

    async def observe() -> ObservedFacts:
        try:
            return await observe_capacity(ports.capacity, runtimes, seen)
        finally:
            await ports.close()

    facts = asyncio.run(observe())
    live = workspace.with_facts(facts)
    view = plan_view(live, operator=operator)
    specs = {n: r for n, r in workspace.spec.runtimes.items() if isinstance(r, ProxmoxRuntimeSpec)}
    observed = tuple(
        describe_runtime(name, specs[name], runtime)
        for name, runtime in facts.runtimes.items()
        if name in specs
    )
    note = "Placed on what Proxmox reports now:"
    return LivePlan(live, replace(view, notes=(*view.notes, note, *observed)))
