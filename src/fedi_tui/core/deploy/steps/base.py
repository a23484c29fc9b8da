"""What every step handler is given and may raise.

A handler executes one kind of plan step through the ports and says what the
step changed in the recorded state (`record`, a pure function: the plan tests
use it to check that applying a plan and planning again gives nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from fedi_tui.core.deploy.configuration import Configuration, Machine
from fedi_tui.core.deploy.events import LineStream, MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.ports import LineSink, MachineShell, Ports
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import RenderedMachine
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.machinespec import DeploySpec
from fedi_tui.core.state.model import StateSpec

Observed = Mapping[str, Any]
"""What the outside world reported while a step ran (the VMID used, a bucket id, …)."""


@dataclass(frozen=True)
class Target:
    """What a plan was made for: the configuration and its rendered files (all `record` needs)."""

    config: Configuration
    rendered: Mapping[str, RenderedMachine]

    def machine(self, name: str) -> Machine:
        return self.config.machine(name)

    def machine_of_instance(self, instance: str) -> Machine:
        return next(m for m in self.config.machines if any(a.key == instance for a in m.apps))


@dataclass(frozen=True)
class Desired(Target):
    """The target of a run, with the state file's spec and the module files it renders from."""

    spec: StateSpec
    modules: Mapping[str, str]
    """The fediversity NixOS module files (to render a machine's base configuration)."""

    def deploy_settings(self, runtime: str) -> DeploySpec:
        return self.spec.runtimes[runtime].deploy


class StepFailed(FediError):
    """The step did not do what it should; the machine is as it was unless the message says."""


class RolledBack(FediError):
    """The machine was switched back to its previous configuration.

    `lost_contact`: it did so by itself (its lock-out guard) after fedi-tui lost contact.
    """

    def __init__(self, message: str, *, lost_contact: bool = False) -> None:
        super().__init__(message)
        self.lost_contact = lost_contact


class PreflightOnly(Exception):
    """`apply --preflight-only`: the step checked what it would do and stops there."""


class StepContext(Protocol):
    """What a running step may use; the engine provides it."""

    step: Step
    desired: Desired

    @property
    def recorded(self) -> RecordedState:
        """The recorded state as it is now (earlier steps of this run included)."""
        ...

    @property
    def recorded_before(self) -> RecordedState:
        """The recorded state when the run started."""
        ...

    ports: Ports
    secrets: SecretStore
    deployment: str
    state_file: Path
    preflight_only: bool

    def log(self, text: str, stream: LineStream = "info") -> None:
        """A line for the log (secrets redacted, control characters made visible)."""
        ...

    def remember_secret(self, value: str) -> None:
        """A secret value made during the run: redact it from everything from now on."""
        ...

    def phase(self, phase: str, state: MachineState) -> None:
        """Say what the step is doing now ('switching', 'checking https://…')."""
        ...

    def line_sink(self) -> LineSink:
        """A sink for a remote command's output lines (stream, text)."""
        ...

    def task_sink(self) -> LineSink:
        """A sink for a hypervisor's task log lines (logged as stream "task")."""
        ...

    async def shell(self) -> MachineShell:
        """The machine's connection for this run (opened on first use, then reused)."""
        ...

    async def fresh_shell(
        self, *, address: str | None = None, host_key: str | None = None
    ) -> MachineShell:
        """A new connection to the machine (the caller closes it).

        `address` and `host_key` replace the recorded ones (a VM just created).
        """
        ...

    async def all_preflights_done(self) -> None:
        """Wait until every machine of the run has built its new configuration (or failed)."""
        ...

    def preflight_finished(self) -> None:
        """This machine's preflight is over (either way)."""
        ...


class Handler(Protocol):
    """Executes one kind of step and says what it records."""

    kinds: ClassVar[tuple[StepKind, ...]]
    state: ClassVar[MachineState]
    """What the machine is doing while this step runs (the TUI's progress table)."""

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        """Steps of one lane run one after another: `machine:<name>` or `storage:<name>`."""
        ...

    async def execute(self, ctx: StepContext) -> Observed: ...

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState: ...


def machine_lane(name: str) -> str:
    return f"machine:{name}"


def storage_lane(name: str) -> str:
    return f"storage:{name}"
