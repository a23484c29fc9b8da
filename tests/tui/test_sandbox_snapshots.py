"""Snapshots of the TUI on a sandbox's state file (`fedi-tui sandbox up`), for the README's
walk through the sandbox: dashboard → plan → apply → logs → undeploy, at 80×24.

The state file is the one `sandbox up` writes (fedi_tui.sandbox.statefile), from a fixed
ready.json (fixed ports, host key and paths), so the pictures do not depend on the run;
the run and its log are fixed events with a fixed clock. Regenerate with
`--snapshot-update`, then look at every SVG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.core.deploy.effects import apply_plan_effects
from fedi_tui.core.deploy.events import (
    Event,
    LogLine,
    MachineFinished,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from fedi_tui.core.deploy.history import HistoryWriter
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.state.file import update_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.views.progress import RunProgress
from fedi_tui.core.workspace import Workspace
from fedi_tui.sandbox.hosts import deploy_settings, hardware_path
from fedi_tui.sandbox.layout import ProviderDir
from fedi_tui.sandbox.statefile import render
from fedi_tui.tui.app import FediApp
from tests.tui.conftest import AppFactory
from tests.tui.test_deploy_snapshots import keys

T0 = 1_796_198_400.0  # 2026-12-02 08:00:00 UTC
RUN = "20261202T080000Z-5a4d"
MACHINES = ("coop-mastodon", "host")
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
MACHINES_DIR = Path("/tmp/fedi-sandbox-0123456789ab/a")


def ready() -> dict[str, Any]:
    """What provider a's supervisor says it serves, with fixed ports."""
    return {
        "pve": {
            "url": "https://127.0.0.1:41001",
            "ca_file": "/srv/sandbox/a/tls/pve/sandbox-a-pve-ca.pem",
            "token_id": "root@pam!fedi",
            "template": 9000,
            "nodes": ["pve1", "pve2"],
        },
        "garage": {
            "s3_endpoint": "https://127.0.0.1:41002",
            "admin_endpoint": "https://127.0.0.1:41003",
            "ca_file": "/srv/sandbox/a/tls/garage/sandbox-a-garage-ca.pem",
            "region": "garage",
        },
        "nixos": {
            "address": "127.0.41.2",
            "port": 41004,
            "host_key": HOST_KEY,
            "user": "fedi-test",
            "base_module": str(hardware_path(MACHINES_DIR / "machines/nixos/root")),
            "deploy": deploy_settings(MACHINES_DIR / "machines/nixos/root", 41005),
        },
        "vms": {
            "network": "127.0.31.0/24",
            "gateway": "127.0.31.1",
            "pool": "127.0.31.10-127.0.31.40",
            "user": "fedi-test",
            "base_module": str(hardware_path(MACHINES_DIR / "vm-root")),
            "deploy": deploy_settings(MACHINES_DIR / "vm-root", 41005),
        },
    }


@pytest.fixture
def sandbox_state(tmp_path: Path) -> Path:
    where = ProviderDir(tmp_path / "a", "a")
    where.ssh_key.parent.mkdir(parents=True)
    where.ssh_key.with_name(where.ssh_key.name + ".pub").write_text(HOST_KEY + " fedi-tui\n")
    where.state_file.write_text(render(where, ready()))
    return where.state_file


def run_events() -> list[Event]:
    def s(kind: str, m: str, at: float) -> StepStarted:
        return StepStarted(
            deployment=RUN,
            at=T0 + at,
            step=f"{kind}:{m}",
            description=f"{kind} {m}",
            target_machine=m,
        )

    def f(kind: str, m: str, at: float) -> StepFinished:
        return StepFinished(
            deployment=RUN, at=T0 + at, step=f"{kind}:{m}", outcome="done", target_machine=m
        )

    def line(m: str, at: float, text: str, stream: str = "info") -> LogLine:
        return LogLine(
            deployment=RUN,
            at=T0 + at,
            step=f"activate:{m}",
            stream=stream,  # type: ignore[arg-type]
            text=text,
            target_machine=m,
        )

    events: list[Event] = [
        RunStarted(
            deployment=RUN,
            at=T0,
            user="root@sandbox",
            state_file="fedi.toml",
            summary="10 to create, 0 to change, 0 to destroy",
            machines=MACHINES,
            steps=10,
            sandbox=True,
        ),
        s("create-vm", "coop-mastodon", 0.2),
        line("coop-mastodon", 0.4, "qmclone: creating a clone of VM 9000 with ID 10000", "task"),
        line("coop-mastodon", 1.2, "VM 10000 on pve1 answers SSH at 127.0.31.10"),
        f("create-vm", "coop-mastodon", 1.4),
    ]
    for n, m in enumerate(MACHINES):
        at = 1.5 + n * 0.1
        events += [
            s("push-config", m, at),
            f("push-config", m, at + 0.4),
            s("activate", m, at + 0.5),
            line(m, at + 0.7, "building the system configuration...", "stderr"),
            line(m, at + 0.9, "fake-nixos-rebuild: switch: 9 files parse", "stdout"),
            f("activate", m, at + 1.1),
            s("health-check", m, at + 1.2),
            f("health-check", m, at + 1.4),
        ]
    return events


EXPECTED = {
    m: frozenset(
        {f"{k}:{m}" for k in ("push-config", "activate", "health-check")}
        | ({"create-vm:coop-mastodon"} if m == "coop-mastodon" else set())
    )
    for m in MACHINES
}


def write_run(state_file: Path) -> None:
    writer = HistoryWriter(state_file.parent / ".fedi", RUN)
    for event in run_events():
        writer(event)
    for m in MACHINES:
        writer(MachineFinished(deployment=RUN, at=T0 + 4, name=m, state="done"))
    writer(RunFinished(deployment=RUN, at=T0 + 4.1, outcome="succeeded", message="2 machines"))
    writer.close()


def show_run(app: FediApp) -> None:
    app.deployments.progress = RunProgress.of(
        [
            *run_events(),
            *(MachineFinished(deployment=RUN, at=T0 + 4, name=m, state="done") for m in MACHINES),
        ],
        EXPECTED,
    )
    app.run_tick += 1


def undeploy_coop(state_file: Path) -> None:
    """What `undeploy --operator coop` leaves to plan: everything applied and recorded,
    then coop's apps disabled in the state file."""
    workspace = Workspace.open(state_file)
    planned = workspace.plan()
    save_recorded(
        workspace.state_dir,
        apply_plan_effects(RecordedState(), planned.plan, planned.config, planned.rendered),
    )
    apps = [a for a, o in workspace.spec.operators["coop"].apps.items() if o.enable]
    update_state(
        state_file,
        lambda _loaded: [Edit(("operators", "coop", "apps", a, "enable"), False) for a in apps],
    )


@pytest.mark.parametrize("view", ["dashboard", "plan", "apply", "logs", "undeploy"])
def test_sandbox(
    view: str,
    sandbox_state: Path,
    make_app: AppFactory,
    snap_compare: Callable[..., bool],
) -> None:
    # no prober: the storage's health would depend on what listens on those ports now
    options: dict[str, Any] = {"theme": "fedi-dark", "clock": lambda: T0 + 5, "prober": None}
    run = keys()
    if view == "plan":
        run = keys("6")
    elif view == "apply":
        run = keys("6", "r", before=show_run)
    elif view == "logs":
        write_run(sandbox_state)
        run = keys("6", "h", "l")
    elif view == "undeploy":
        undeploy_coop(sandbox_state)
        run = keys("6")
    app = make_app(sandbox_state, **options)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
