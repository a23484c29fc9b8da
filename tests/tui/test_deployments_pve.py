"""Deployments area on Proxmox: fakepve (TLS verified against its CA) makes the VMs, loopback
sshd hosts are what they boot into (the sandbox's Booter switches each clone's guest agent
on, answering with the host's address and SSH host key) — the fixtures of
tests/deploy/test_apply_proxmox.py.

Apply in the TUI observes Proxmox first, as `fedi-tui apply` does: the plan asked about is
the one made from what the cluster reports now, and a runtime that cannot be observed
stops the apply before the question.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]
from textual.widgets import Static

from fedi_tui.cli.wiring import build_ports
from fedi_tui.core.deploy.observed import ObservedRuntime
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.workspace import Workspace
from fedi_tui.tui.screens.modals import ConfirmModal
from tests.deploy.conftest import deploy_hosts, health, set_value
from tests.deploy.test_apply_proxmox import fedi_vms, pve, vms, write_state
from tests.fixtures.deployhosts import DeployHost
from tests.fixtures.garage import GarageStandIn
from tests.tui.conftest import AppFactory
from tests.tui.helpers import screen_text, text_of
from tests.tui.test_deployments import (
    follow_states,
    open_plan,
    state_of,
    until,
    wait_for_question,
)

__all__ = ["deploy_hosts", "health", "pve", "vms"]

pytestmark = [pytest.mark.real, pytest.mark.fakepve(time_scale=0)]

ROW_ORDER = ["provisioning", "pushing", "activating", "checking", "done"]


class HeldObservation:
    """The CLI's ports, with each runtime's observation held until `release()` (the real
    observation of fakepve follows): lets a test see what the screen says meanwhile."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.asked: list[str] = []
        self.answered: list[str] = []

    def __call__(self, workspace: Workspace) -> Ports:
        made = build_ports(workspace)

        async def capacity(name: str) -> ObservedRuntime:
            self.asked.append(name)
            await asyncio.to_thread(self.gate.wait, 60)
            found = await made.capacity(name)
            self.answered.append(name)
            return found

        return replace(made, capacity=capacity)

    def release(self) -> None:
        self.gate.set()


def in_order(states: list[str]) -> list[str]:
    """The states of ROW_ORDER a row went through, each once (the activate step builds
    first, so a row may go activating → building → activating)."""
    out: list[str] = []
    for state in states:
        if state in ROW_ORDER and (not out or out[-1] != state):
            out.append(state)
    return out


@pytest.mark.slow
async def test_apply_from_the_tui_provisions_the_vms_on_fakepve(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
    make_app: AppFactory,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    vms[0].tell("hold-switch")  # op1-mastodon's switch waits for the test
    held = HeldObservation()
    app = make_app(path, ports=held)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        assert screen.view is not None and screen.view.planned is not None
        ids = {s.id for s in screen.view.planned.plan.steps}
        assert {"create-vm:op1-mastodon", "create-vm:op2-mastodon"} <= ids
        await until(pilot, "the steps shown", lambda: "create-vm op1-mastodon" in screen_text(app))

        seen = follow_states(app, ["op1-mastodon", "op2-mastodon"])
        await pilot.press("a")
        # Proxmox is asked first, and the screen says so while it is
        await until(
            pilot,
            "observing is shown",
            lambda: "pve1 …" in screen_text(app) and "pve2 …" in screen_text(app),
        )
        assert "Observing Proxmox before applying" in screen_text(app)
        assert not isinstance(app.screen, ConfirmModal) and app.deployments.progress is None
        held.release()
        await wait_for_question(pilot)
        assert sorted(held.asked) == ["pve1", "pve2"]
        # the plan asked about is the one made from what fakepve reports (4 CPUs, 8 GiB)
        live = screen.view
        assert live is not None and live.planned is not None
        assert any(n.startswith("Observed runtime pve1 (") for n in live.notes)
        assert "pve1 4 cores, 8 GiB memory" in "\n".join(live.notes)
        await pilot.press("y")

        def op1_holds() -> bool:
            progress = app.deployments.progress
            row = progress.machines.get("op1-mastodon") if progress else None
            return row is not None and "holding for release-switch" in row.last_line

        await until(pilot, "op1's switch is held", op1_holds)
        # a line of the activation, shown while it still runs
        assert app.deployments.running and state_of(app, "op1-mastodon") == "activating"

        def held_row_shown() -> bool:
            text = screen_text(app)  # the Run tab: op1's row, its state and its last line
            return "holding for release-switch" in text and "activating" in text

        await until(pilot, "the held row on the screen", held_row_shown)
        vms[0].tell("release-switch")
        await until(pilot, "the run ends", lambda: not app.deployments.running)
        progress = app.deployments.progress
        assert progress is not None and progress.outcome == "succeeded", progress.message
        for machine in ("op1-mastodon", "op2-mastodon"):
            assert in_order(seen[machine]) == ROW_ORDER, (machine, seen[machine])

        # the VMs are fakepve's now, tagged as fedi-tui's, and nothing is left to do
        made = {v.vmid: v for v in fedi_vms(pve)}
        assert sorted(made) == [11000, 12000]
        assert all("fedi-tui" in str(v.config["tags"]) for v in made.values())
        assert "op1-mastodon" in str(made[11000].config["tags"])
        await pilot.press("v")
        await until(
            pilot,
            "the plan again, empty",
            lambda: screen.view is not None and "Nothing to do" in screen.view.summary,
        )
    assert vms[0].generation() == 1 and vms[1].generation() == 1
    assert Workspace.open(path).plan().plan.empty


@pytest.mark.slow
async def test_the_plan_asked_about_places_the_vm_where_proxmox_has_room(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
    make_app: AppFactory,
) -> None:
    # declared: pve1 and pve2 alike, so the declared plan takes the first, pve1; live: a
    # guest fedi-tui did not create uses 1 GiB on pve1, so pve2 has the most memory free
    path = write_state(tmp_path, pve, fakepve_cafile, vms[:1], garage, nodes=("pve1", "pve2"))
    pve.add_vm(500, "legacy", node="pve1", config={"cores": 1, "memory": 1024})
    pve.vm(9000).node = "pve2"  # a clone stays on its template's node (local storage)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        assert screen.view is not None and screen.view.planned is not None
        assert screen.view.planned.config.machine("op1-mastodon").node == "pve1"
        title = "op1-mastodon  (pve1, pve1, 127.0.11.10)"  # runtime, node, address
        await until(pilot, "the declared placement", lambda: title in screen_text(app))
        await pilot.press("a")
        await wait_for_question(pilot)
        live = screen.view
        assert live is not None and live.planned is not None
        assert live.planned.config.machine("op1-mastodon").node == "pve2"
        assert "op1-mastodon  (pve1, pve2, 127.0.11.10)" in [g.title for g in live.groups]
        await pilot.press("y")
        await until(
            pilot,
            "the run ends",
            lambda: (
                app.deployments.progress is not None
                and app.deployments.progress.outcome is not None
            ),
        )
        progress = app.deployments.progress
        assert progress is not None and progress.outcome == "succeeded", [
            (m.name, m.message, m.last_line) for m in progress.machines.values()
        ]
    # what was applied is the plan that was asked about
    assert [v.node for v in fedi_vms(pve)] == ["pve2"]
    assert Workspace.open(path).recorded.machines["op1-mastodon"].node == "pve2"


@pytest.mark.slow
async def test_a_runtime_that_cannot_be_observed_stops_the_apply_before_the_question(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
    make_app: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    monkeypatch.setenv("FEDI_TEST_PVE_B_TOKEN", "not-the-token")
    set_value(path, "runtimes.pve2.token", {"env": "FEDI_TEST_PVE_B_TOKEN"})
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("a")
        await until(pilot, "the refusal", lambda: "Not applied" in screen_text(app))
        # as `fedi-tui apply`: one line per runtime that failed, naming it; nothing asked
        summary = text_of(screen.query_one("#plan-summary", Static))
        assert f"runtime pve2 ({pve.url}): the API refused the token root@pam!fedi (401" in summary
        assert "runtime pve1" not in summary  # that one answered
        assert "Nothing was changed; a asks again." in summary
        assert "Proxmox not observed" in [n.title for n in app._notifications]
        assert not isinstance(app.screen, ConfirmModal)
        assert app.deployments.progress is None and not fedi_vms(pve)
        assert "not-the-token" not in screen_text(app) + summary
        # the declared plan stays: a asks Proxmox again
        assert screen.view is not None and screen.view.can_apply


@pytest.mark.slow
async def test_c_cancels_the_observation_and_its_late_answer_is_dropped(
    tmp_path: Path,
    pve: FakePve,
    fakepve_cafile: str,
    vms: list[DeployHost],
    garage: GarageStandIn,
    make_app: AppFactory,
) -> None:
    path = write_state(tmp_path, pve, fakepve_cafile, vms, garage)
    held = HeldObservation()
    app = make_app(path, ports=held)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        declared = screen.view
        await pilot.press("a")
        await until(pilot, "observing is shown", lambda: "pve1 …" in screen_text(app))
        assert "(c cancels)" in screen_text(app)
        await pilot.press("c")
        await until(
            pilot,
            "the cancel said",
            lambda: any(
                n.message.startswith("Observing Proxmox cancelled") for n in app._notifications
            ),
        )
        # at once, without waiting for Proxmox: the declared plan again, nothing asked
        assert screen.view is declared and "observing" not in screen_text(app)
        assert held.answered == []
        # the observation's thread answers later: that answer is dropped
        held.release()
        await until(pilot, "the late answers", lambda: sorted(held.answered) == ["pve1", "pve2"])
        for _ in range(20):
            await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal) and screen.view is declared
        assert app.deployments.progress is None and not fedi_vms(pve)
        # a asks Proxmox again, and this time the question follows
        await pilot.press("a")
        await wait_for_question(pilot)
        await pilot.press("n")
        await until(pilot, "the question gone", lambda: not isinstance(app.screen, ConfirmModal))
    assert not fedi_vms(pve)
