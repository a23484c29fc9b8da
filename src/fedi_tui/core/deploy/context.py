"""The StepContext a running step gets from the engine (see `steps.base.StepContext`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from fedi_tui.core.deploy.events import Event, LineStream, MachineState, StepPhase
from fedi_tui.core.deploy.lanes import Lane
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import LineSink, MachineEndpoint, MachineShell, Ports, Stream
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.redact import Redactor
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.errors import FediError


class EngineServices(Protocol):
    """What a step's context uses of the engine running it."""

    desired: Desired
    ports: Ports
    secrets: SecretStore
    deployment: str
    state_file: Path
    redact: Redactor
    recorded: RecordedState
    recorded_before: RecordedState

    @property
    def preflight_only(self) -> bool: ...

    def emit(self, event: Event) -> None: ...

    def now(self) -> float: ...

    def log(self, lane: Lane, step: Step, text: str, stream: LineStream) -> None: ...

    def endpoint(
        self, machine: str, *, address: str | None = None, host_key: str | None = None
    ) -> MachineEndpoint: ...

    def preflight_over(self) -> None: ...

    async def preflight_barrier(self, lane: Lane) -> None: ...


class StepRun:
    """The StepContext the engine gives a running step."""

    def __init__(self, engine: EngineServices, lane: Lane, step: Step) -> None:
        self._engine = engine
        self._lane = lane
        self.step = step
        self.desired = engine.desired
        self.ports: Ports = engine.ports
        self.secrets: SecretStore = engine.secrets
        self.deployment = engine.deployment
        self.state_file = engine.state_file
        self.preflight_only = engine.preflight_only
        self._preflight_settled = step.kind != "activate"

    @property
    def recorded(self) -> RecordedState:
        return self._engine.recorded

    @property
    def recorded_before(self) -> RecordedState:
        return self._engine.recorded_before

    def log(self, text: str, stream: LineStream = "info") -> None:
        self._engine.log(self._lane, self.step, text, stream)

    def remember_secret(self, value: str) -> None:
        self._engine.redact.add(value)

    def phase(self, phase: str, state: MachineState) -> None:
        self._lane.state = state
        self._engine.emit(
            StepPhase(
                deployment=self._engine.deployment,
                at=self._engine.now(),
                step=self.step.id,
                phase=self._engine.redact(phase),
                state=state,
                target_machine=self._lane.machine,
            )
        )

    def line_sink(self) -> LineSink:
        def sink(stream: Stream, line: str) -> None:
            self._engine.log(self._lane, self.step, line, stream)

        return sink

    def task_sink(self) -> LineSink:
        def sink(stream: Stream, line: str) -> None:
            self._engine.log(self._lane, self.step, line, "task")

        return sink

    def _machine(self) -> str:
        if self._lane.machine is None:
            raise FediError(f"{self.step.id}: this step has no machine to connect to")
        return self._lane.machine

    async def shell(self) -> MachineShell:
        if self._lane.shell is None:
            endpoint = self._engine.endpoint(self._machine())
            self._lane.shell = await self.ports.machines.connect(endpoint)
        return self._lane.shell

    async def fresh_shell(
        self, *, address: str | None = None, host_key: str | None = None
    ) -> MachineShell:
        endpoint = self._engine.endpoint(self._machine(), address=address, host_key=host_key)
        return await self.ports.machines.connect(endpoint)

    def preflight_finished(self) -> None:
        if not self._preflight_settled:
            self._preflight_settled = True
            self._engine.preflight_over()

    def settle_preflight(self) -> None:
        self.preflight_finished()

    async def all_preflights_done(self) -> None:
        await self._engine.preflight_barrier(self._lane)
