"""Running the engine from tests the way the CLI does (same wiring), collecting its events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from fedi_tui.cli.wiring import build_ports
from fedi_tui.core.deploy.engine import ApplyOptions, Engine, RunResult
from fedi_tui.core.deploy.events import Event
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.deploy.runner import known_hosts_file
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.workspace import Workspace


@dataclass
class Collected:
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


def make_engine(path: Path, sink: Collected, **options: object) -> Engine:
    workspace = Workspace.open(path)
    planned = workspace.plan()
    state_dir = workspace.state_dir
    secrets = SecretStore(state_dir)

    def recorder(recorded: RecordedState) -> None:
        save_recorded(state_dir, recorded)

    return Engine(
        planned=planned,
        desired=Desired(planned.config, planned.rendered, workspace.spec, workspace.modules),
        recorded=workspace.recorded,
        ports=build_ports(workspace),
        secrets=secrets,
        recorder=recorder,
        sink=sink,
        deployment="test-run",
        state_file=workspace.path,
        known_hosts=known_hosts_file(workspace.state_dir),
        user="tester@test",
        options=ApplyOptions(**options),  # type: ignore[arg-type]
        secret_values=secrets.all_values(),
    )


async def run(engine: Engine) -> RunResult:
    """Run the engine and close what its ports made, like the CLI does."""
    try:
        return await engine.run()
    finally:
        await engine.ports.close()


def apply(path: Path, **options: object) -> tuple[RunResult, Collected]:
    sink = Collected()
    result = asyncio.run(run(make_engine(path, sink, **options)))
    return result, sink
