"""Live facts before an apply: which Proxmox runtimes a plan places VMs on, observing them
through the `Ports.capacity` port, and how what was seen is said.

`fedi-tui apply` and the TUI's Apply both look at the clusters first when the plan
creates or grows a VM, so new VMs go where there is room now, not where fedi.toml
says there was. A runtime that cannot be observed stops the apply before anything is
asked or changed; the error has one line per such runtime (each names it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from fedi_tui.core.deploy.observed import ObservedFacts, ObservedRuntime
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec

PLACING_STEPS = frozenset({"create-vm", "resize-vm"})

Capacity = Callable[[str], Awaitable[ObservedRuntime]]
"""Observes one Proxmox runtime by its name in fedi.toml (`Ports.capacity`)."""
Seen = Callable[[str, ObservedRuntime | FediError], None]
"""Told of each runtime as its observation ends: what was seen, or why it failed."""


def placing_runtimes(planned: Planned, spec: StateSpec) -> list[str]:
    """The Proxmox runtimes on which the plan creates or grows a VM, by name."""
    names = {
        planned.config.machine(s.target).runtime
        for s in planned.plan.steps
        if s.kind in PLACING_STEPS
    }
    return sorted(n for n in names if isinstance(spec.runtimes.get(n), ProxmoxRuntimeSpec))


async def observe_capacity(
    capacity: Capacity, names: Iterable[str], seen: Seen | None = None
) -> ObservedFacts:
    """Observe every runtime in `names` at once; if any fails, one FediError lists every
    failure (one line each) after all have ended. Other exceptions are raised as they are."""
    order = sorted(names)

    async def one(name: str) -> ObservedRuntime:
        try:
            result = await capacity(name)
        except FediError as exc:
            if seen is not None:
                seen(name, exc)
            raise
        if seen is not None:
            seen(name, result)
        return result

    results = await asyncio.gather(*(one(n) for n in order), return_exceptions=True)
    failures: list[str] = []
    observed: dict[str, ObservedRuntime] = {}
    for name, result in zip(order, results, strict=True):
        if isinstance(result, FediError):
            failures.append(str(result))
        elif isinstance(result, BaseException):
            raise result
        else:
            observed[name] = result
    if failures:
        raise FediError("\n".join(failures))
    return ObservedFacts(runtimes=observed)


def describe_runtime(name: str, spec: ProxmoxRuntimeSpec, seen: ObservedRuntime) -> str:
    """'Observed runtime pve1 (https://…): pve1 4 cores, 8 GiB memory, 90 GiB disk; pve2 offline'"""
    nodes = "; ".join(
        f"{node} {n.cores} cores, {n.memory_gib:g} GiB memory, {n.disk_gib:g} GiB disk"
        if n.online
        else f"{node} offline"
        for node, n in seen.nodes.items()
    )
    return f"Observed runtime {name} ({spec.api}): {nodes}"
