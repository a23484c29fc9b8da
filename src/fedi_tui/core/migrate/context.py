"""What every migration phase is given: both views of the state, the ports, the record.

Phases log through `log` (one event stream: the CLI printer, the history log,
the TUI), reach machines through `shell`, and run the apply engine on the target
or the source through `deploy`, whose events join the migration's own stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fedi_tui.core.deploy.endpoints import endpoint_of
from fedi_tui.core.deploy.engine import ApplyOptions, RunResult
from fedi_tui.core.deploy.events import Event, LogLine, RunFinished, RunStarted
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import LineSink, MachineShell, Ports, Stream
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.deploy.redact import Redactor
from fedi_tui.core.deploy.runner import DeploymentRun
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.record import MigrationRecord, save_migration, slot_dir
from fedi_tui.core.migrate.slot import slot_part, target_view
from fedi_tui.core.workspace import Workspace


class PhaseFailed(FediError):
    """A phase could not finish; the message says why and what to do. Running the
    migration again resumes it."""


class Paused(Exception):
    """The provider asked to pause: the run stops after the current step."""


@dataclass
class MigrationContext:
    source: Workspace
    record: MigrationRecord
    ports: Ports
    emit: Callable[[Event], None]
    deployment: str
    user: str
    known_hosts: Path
    options: ApplyOptions = field(default_factory=ApplyOptions)
    dns_timeout: float = 600.0
    dns_interval: float = 2.0
    phase: str = ""
    pause_requested: bool = False
    redact: Redactor = field(default_factory=Redactor)

    def __post_init__(self) -> None:
        self.redact.add(*self.main_secrets.all_values(), *self.slot_secrets.all_values())

    # --- where things are kept ------------------------------------------------------

    @property
    def operator(self) -> str:
        return self.record.operator

    @property
    def state_dir(self) -> Path:
        return self.source.state_dir

    @property
    def slot(self) -> Path:
        return slot_dir(self.state_dir, self.operator)

    @property
    def main_secrets(self) -> SecretStore:
        return SecretStore(self.state_dir)

    @property
    def slot_secrets(self) -> SecretStore:
        return SecretStore(self.slot)

    def save(self, record: MigrationRecord) -> None:
        self.record = record
        save_migration(self.state_dir, record)

    def step_done(self, step: str) -> None:
        self.save(self.record.step_done(self.phase, step))

    def is_done(self, step: str) -> bool:
        return step in self.record.phase(self.phase).steps_done

    def check_pause(self) -> None:
        if self.pause_requested:
            raise Paused()

    def target(self) -> Workspace:
        """The target view as recorded now (it changes as the target is built)."""
        return target_view(self.source, self.record)

    # --- events ---------------------------------------------------------------------

    def log(self, text: str, *, machine: str | None = None, stream: str = "info") -> None:
        self.emit(
            LogLine(
                deployment=self.deployment,
                at=time.time(),
                step=f"phase:{self.phase}",
                target_machine=machine,
                stream="stderr" if stream == "stderr" else "info",
                text=self.redact(text),
            )
        )

    def _engine_sink(self, event: Event) -> None:
        """An engine run inside a phase: its start and end become lines of the phase."""
        if isinstance(event, RunStarted):
            self.log(f"deployment steps: {event.summary} ({event.steps} steps)")
        elif isinstance(event, RunFinished):
            why = f": {event.message}" if event.message else ""
            self.log(f"deployment steps {event.outcome}{why}")
        else:
            self.emit(event)

    def line_sink(self, machine: str) -> LineSink:
        """A remote command's output lines as log lines of the phase (redacted, visible)."""

        def sink(stream: Stream, line: str) -> None:
            self.log(f"| {line}", machine=machine)

        return sink

    # --- machines and the engine -----------------------------------------------------

    async def shell(self, workspace: Workspace, machine: str) -> MachineShell:
        desired = Desired(workspace.config, workspace.rendered, workspace.spec, workspace.modules)
        endpoint = endpoint_of(
            desired,
            workspace.recorded,
            machine,
            state_file=workspace.path,
            known_hosts=self.known_hosts,
        )
        return await self.ports.machines.connect(endpoint)

    async def run_on(
        self, workspace: Workspace, machine: str, commands: Sequence[tuple[str, ...]]
    ) -> None:
        """Run commands on a machine in order, each with its output in the log."""
        if not commands:
            return
        timeout = _command_timeout(workspace, machine)
        shell = await self.shell(workspace, machine)
        try:
            lines: list[str] = []

            def keep(stream: str, line: str) -> None:
                lines.append(line)
                self.log(f"| {line}", machine=machine)

            for argv in commands:
                lines.clear()
                try:
                    async with asyncio.timeout(timeout):
                        status = await shell.run(argv, on_line=keep, check=False)
                except TimeoutError:
                    raise PhaseFailed(
                        f"{machine}: `{' '.join(argv)}` did not finish within {timeout:g} s"
                    ) from None
                if status != 0:
                    last = next((ln for ln in reversed(lines) if ln.strip()), "")
                    raise PhaseFailed(
                        f"{machine}: `{' '.join(argv)}` exited {status}"
                        + (f": {self.redact(last)}" if last else "")
                        + "; fix it on the machine and run the migration again"
                    )
                self.log(f"{' '.join(argv)}: done", machine=machine)
        finally:
            await shell.close()

    async def deploy(
        self,
        workspace: Workspace,
        planned: Planned,
        steps: Sequence[Step],
        *,
        slot: bool,
    ) -> RunResult | None:
        """Run `steps` of a plan through the engine; `slot`: the target (records and
        secrets in the slot), else the source (the state directory's own)."""
        if not steps:
            return None
        op = self.operator

        def to_slot(recorded: RecordedState) -> None:
            save_recorded(self.slot, slot_part(recorded, op))

        run = DeploymentRun(
            workspace,
            planned,
            self.ports,
            sinks=(),
            steps=steps,
            options=self.options,
            kind="migrate",
            user=self.user,
            deployment=self.deployment,
            log=self._engine_sink,
            recorder=to_slot if slot else None,
            secrets=self.slot_secrets if slot else None,
        )
        with run:
            result = await run.run()
        if result.outcome != "succeeded":
            why = "; ".join(f"{k}: {v.splitlines()[0]}" for k, v in result.messages.items() if v)
            raise PhaseFailed(
                f"the {'target' if slot else 'source'} deployment {result.outcome}"
                + (f" ({why})" if why else "")
                + "; fix it and run the migration again"
            )
        return result


def _command_timeout(workspace: Workspace, machine: str) -> float:
    wanted = next((m for m in workspace.config.machines if m.name == machine), None)
    rec = workspace.recorded.machines.get(machine)
    runtime = wanted.runtime if wanted else rec.runtime if rec else None
    if runtime is not None and runtime in workspace.spec.runtimes:
        return float(workspace.spec.runtimes[runtime].deploy.command_timeout)
    return 300.0
