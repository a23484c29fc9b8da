"""core.deploy.livefacts: which runtimes an apply observes, and how observing them ends."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from fedi_tui.core.deploy.livefacts import describe_runtime, observe_capacity, placing_runtimes
from fedi_tui.core.deploy.observed import ObservedNode, ObservedRuntime
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.views.liveplan import observing_text, unobservable_text
from fedi_tui.core.workspace import Workspace
from tests.paths import DEMO

SEEN = ObservedRuntime(nodes={"pve1": ObservedNode(cores=4, memory_gib=8, disk_gib=90)})


def test_only_the_proxmox_runtimes_that_get_new_vms_are_observed() -> None:
    workspace = Workspace.open(DEMO)  # pve-a (Proxmox, VMs to create) and bare-1 (NixOS host)
    planned = workspace.plan()
    assert "bare-1" in {m.runtime for m in planned.config.machines}
    assert placing_runtimes(planned, workspace.spec) == ["pve-a"]
    kept = tuple(s for s in planned.plan.steps if s.kind not in ("create-vm", "resize-vm"))
    unplaced = replace(planned, plan=replace(planned.plan, steps=kept))
    assert kept and placing_runtimes(unplaced, workspace.spec) == []


def test_every_failure_is_listed_once_all_have_ended() -> None:
    told: list[tuple[str, str]] = []

    async def capacity(name: str) -> ObservedRuntime:
        await asyncio.sleep(0)
        if name != "ok":
            raise FediError(f"runtime {name} (https://127.0.0.1:1): connection refused")
        return SEEN

    def seen(name: str, result: ObservedRuntime | FediError) -> None:
        told.append((name, "failed" if isinstance(result, FediError) else "observed"))

    with pytest.raises(FediError) as caught:
        asyncio.run(observe_capacity(capacity, ["b-down", "ok", "a-down"], seen))
    assert str(caught.value).splitlines() == [
        "runtime a-down (https://127.0.0.1:1): connection refused",
        "runtime b-down (https://127.0.0.1:1): connection refused",
    ]
    assert sorted(told) == [("a-down", "failed"), ("b-down", "failed"), ("ok", "observed")]
    shown = unobservable_text(caught.value)
    assert "  runtime a-down" in shown and "  runtime b-down" in shown
    assert "Nothing was changed" in shown


def test_what_was_seen_is_the_facts_and_said_as_the_cli_says_it() -> None:
    async def capacity(name: str) -> ObservedRuntime:
        return SEEN

    facts = asyncio.run(observe_capacity(capacity, ["pve1"]))
    assert facts.runtimes == {"pve1": SEEN}
    spec = Workspace.open(DEMO).spec.runtimes["pve-a"]
    assert isinstance(spec, ProxmoxRuntimeSpec)
    line = describe_runtime("pve-a", spec, SEEN)
    assert line == f"Observed runtime pve-a ({spec.api}): pve1 4 cores, 8 GiB memory, 90 GiB disk"
    text = observing_text({"pve1": "observed", "pve2": "observing", "pve3": "failed"})
    assert text.endswith("pve1 observed, pve2 …, pve3 could not be observed")


def test_an_unexpected_error_is_not_turned_into_a_message() -> None:
    async def capacity(name: str) -> ObservedRuntime:
        raise KeyError(name)

    with pytest.raises(KeyError):
        asyncio.run(observe_capacity(capacity, ["pve1"]))
