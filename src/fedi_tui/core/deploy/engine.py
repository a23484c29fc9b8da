"""The apply engine: runs a plan's steps as a dependency graph, reporting every move.

* Steps are grouped in lanes (`machine:<name>`, `storage:<storage>/<bucket>`);
  a lane runs its steps in plan order, lanes run side by side. At most
  `parallel` machine lanes hold a slot at a time; a lane gives its slot back
  while it waits for another lane or for the preflight barrier, so a small
  `parallel` can never deadlock.
* A step runs once all its dependencies are done; when one failed, the step
  and the rest of its lane are skipped, saying why. A failed machine never
  stops the others.
* Each finished step is recorded at once (`recorder`, an atomic write), so an
  interrupted run leaves a recorded state from which the next plan holds
  exactly what is left.
* Cancelling the run (Ctrl+C) stops starting steps, cancels the running ones
  (their remote commands are terminated) and records where each stopped.
* Every event passes through one sink; text from outside is redacted of every
  secret known to the run and its control characters are made visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.deploy.context import StepRun
from fedi_tui.core.deploy.endpoints import endpoint_of
from fedi_tui.core.deploy.events import (
    Event,
    EventSink,
    LineStream,
    LogLine,
    MachineFinished,
    MachineState,
    RunFinished,
    RunOutcome,
    RunStarted,
    StepFinished,
    StepOutcome,
    StepStarted,
)
from fedi_tui.core.deploy.lanes import NOT_PREFLIGHT, Lane, lanes_of, run_outcome, summary
from fedi_tui.core.deploy.outcomes import half_created, rolled_back
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import (
    MachineEndpoint,
    Ports,
)
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.redact import Redactor
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps import handler_for
from fedi_tui.core.deploy.steps.base import Desired, PreflightOnly, RolledBack
from fedi_tui.core.errors import FediError


@dataclass(frozen=True)
class ApplyOptions:
    parallel: int = 10
    """Machines deployed at the same time."""
    preflight_only: bool = False
    """Build every machine's new configuration, switch none (a CI check)."""


@dataclass(frozen=True)
class RunResult:
    deployment: str
    outcome: RunOutcome
    machines: Mapping[str, MachineState]
    messages: Mapping[str, str]
    """Per machine (or storage lane): why it ended as it did."""
    recorded: RecordedState
    steps: Mapping[str, StepOutcome]


class Engine:
    """One run of a plan. Make it, then `await engine.run()` once."""

    def __init__(
        self,
        *,
        planned: Planned,
        desired: Desired,
        recorded: RecordedState,
        ports: Ports,
        secrets: SecretStore,
        recorder: Callable[[RecordedState], None],
        sink: EventSink,
        deployment: str,
        state_file: Path,
        known_hosts: Path,
        user: str,
        options: ApplyOptions | None = None,
        steps: Sequence[Step] | None = None,
        clock: Callable[[], float] = time.time,
        secret_values: Sequence[str] = (),
    ) -> None:
        self.planned = planned
        self.desired = desired
        self.recorded = recorded
        """The full recorded state; every finished step is recorded into it."""
        self.recorded_before = recorded
        self.ports = ports
        self.secrets = secrets
        self._recorder = recorder
        self._sink = sink
        self.deployment = deployment
        self.state_file = state_file
        self.known_hosts = known_hosts
        self.user = user
        self.options = options or ApplyOptions()
        self.steps: tuple[Step, ...] = tuple(steps if steps is not None else planned.plan.steps)
        self._clock = clock
        self.redact = Redactor(secret_values)
        self._done: dict[str, asyncio.Event] = {s.id: asyncio.Event() for s in self.steps}
        self.outcomes: dict[str, StepOutcome] = {}
        self._messages: dict[str, str] = {}
        self._slots = asyncio.Semaphore(max(1, self.options.parallel))
        self._preflights_left = sum(1 for s in self.steps if s.kind == "activate")
        self._preflights_done = asyncio.Event()
        if self._preflights_left == 0:
            self._preflights_done.set()
        self._lanes = lanes_of(self.steps, desired, recorded)

    # --- events -----------------------------------------------------------------

    def emit(self, event: Event) -> None:
        self._sink(event)

    def now(self) -> float:
        return self._clock()

    def log(self, lane: Lane, step: Step, text: str, stream: LineStream) -> None:
        clean = self.redact(text)
        lane.tail.append(clean)
        self.emit(
            LogLine(
                deployment=self.deployment,
                at=self.now(),
                step=step.id,
                stream=stream,
                text=clean,
                target_machine=lane.machine,
            )
        )

    # --- the run ----------------------------------------------------------------------

    async def run(self) -> RunResult:
        self.emit(
            RunStarted(
                deployment=self.deployment,
                at=self.now(),
                user=self.user,
                state_file=str(self.state_file),
                summary=str(self.planned.plan.summary),
                machines=tuple(lane.machine for lane in self._lanes if lane.machine),
                steps=len(self.steps),
                preflight_only=self.options.preflight_only,
                pid=os.getpid(),
                sandbox=self.desired.spec.provider.sandbox,
            )
        )
        tasks = [asyncio.create_task(self._run_lane(lane)) for lane in self._lanes]
        interrupted = False
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            interrupted = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        result = self._finish(interrupted)
        if interrupted:
            raise asyncio.CancelledError
        return result

    def _finish(self, interrupted: bool) -> RunResult:
        machines: dict[str, MachineState] = {}
        for lane in self._lanes:
            key = lane.machine or lane.name
            machines[key] = lane.state
            self._messages[key] = lane.message
            if lane.machine is not None:
                rec = self.recorded.machines.get(lane.machine)
                self.emit(
                    MachineFinished(
                        deployment=self.deployment,
                        at=self.now(),
                        name=lane.machine,
                        state=lane.state,
                        message=lane.message,
                        config_hash=rec.config_hash if rec else None,
                    )
                )
        outcome = run_outcome(
            set(machines.values()),
            interrupted=interrupted,
            preflight_only=self.options.preflight_only,
        )
        self.emit(
            RunFinished(
                deployment=self.deployment,
                at=self.now(),
                outcome=outcome,
                machines=machines,
                message=summary(machines),
            )
        )
        return RunResult(
            self.deployment, outcome, machines, dict(self._messages), self.recorded, self.outcomes
        )

    async def _run_lane(self, lane: Lane) -> None:
        why_not: str | None = None
        quiet = False  # skipping after a passed preflight does not make the lane "skipped"
        try:
            for step in lane.steps:
                if why_not is None:
                    why_not = await self._wait_for(lane, step)
                if why_not is None and self.options.preflight_only and step.kind in NOT_PREFLIGHT:
                    why_not = "--preflight-only creates, changes and removes nothing"
                if why_not is not None:
                    self._skip(lane, step, why_not, quiet=quiet)
                    continue
                await self._hold_slot(lane)
                outcome = await self._run_step(lane, step)
                if outcome == "preflight-ok":
                    why_not, quiet = "--preflight-only switches nothing", True
                elif outcome != "done":
                    why_not = f"{step.id} ended {outcome}"
            if lane.state not in ("failed", "rolled-back", "interrupted", "skipped"):
                lane.state = "done"
        except asyncio.CancelledError:
            for step in lane.steps:
                if step.id not in self.outcomes:
                    self._skip(lane, step, "the run was interrupted", outcome="interrupted")
            lane.state = "interrupted"
            raise
        finally:
            self._release_slot(lane)
            if lane.shell is not None:
                shell, lane.shell = lane.shell, None
                with contextlib.suppress(FediError, OSError):
                    await asyncio.shield(shell.close())

    async def _hold_slot(self, lane: Lane) -> None:
        if lane.machine is not None and not lane.has_slot:
            await self._slots.acquire()
            lane.has_slot = True

    def _release_slot(self, lane: Lane) -> None:
        if lane.has_slot:
            lane.has_slot = False
            self._slots.release()

    async def _wait_for(self, lane: Lane, step: Step) -> str | None:
        """Wait for the step's dependencies; the reason to skip it, if one did not succeed."""
        pending = [d for d in step.depends_on if not self._done[d].is_set()]
        if pending:
            self._release_slot(lane)  # never hold a slot while waiting for another lane
            for dep in pending:
                await self._done[dep].wait()
        for dep in step.depends_on:
            if self.outcomes.get(dep) not in ("done",):
                return f"{dep} {self.outcomes.get(dep, 'did not run')}"
        return None

    def _skip(
        self,
        lane: Lane,
        step: Step,
        why: str,
        outcome: StepOutcome = "skipped",
        *,
        quiet: bool = False,
    ) -> None:
        if step.id in self.outcomes:
            return
        self.outcomes[step.id] = outcome
        if step.kind == "activate":
            self.preflight_over()
        if not quiet and lane.state not in ("failed", "rolled-back", "interrupted"):
            lane.state = outcome if outcome == "interrupted" else "skipped"
            lane.message = lane.message or f"skipped: {why}"
        self.emit(
            StepFinished(
                deployment=self.deployment,
                at=self.now(),
                step=step.id,
                outcome=outcome,
                message=f"not run: {why}",
                target_machine=lane.machine,
            )
        )
        self._done[step.id].set()

    def preflight_over(self) -> None:
        self._preflights_left -= 1
        if self._preflights_left <= 0:
            self._preflights_done.set()

    async def _run_step(self, lane: Lane, step: Step) -> StepOutcome:
        handler = handler_for(step.kind)
        ctx = StepRun(self, lane, step)
        lane.state = handler.state
        started = time.monotonic()
        self.emit(
            StepStarted(
                deployment=self.deployment,
                at=self.now(),
                step=step.id,
                description=step.describe(),
                target_machine=lane.machine,
            )
        )
        outcome: StepOutcome = "done"
        message = ""
        try:
            observed = await handler.execute(ctx)
        except asyncio.CancelledError:
            ctx.settle_preflight()
            self._end_step(lane, step, "interrupted", "interrupted while running", started)
            raise
        except PreflightOnly:
            outcome, message = "preflight-ok", "preflight passed; not switched (--preflight-only)"
        except RolledBack as exc:
            outcome = "lost-contact" if exc.lost_contact else "rolled-back"
            message = self.redact(str(exc))
            self._restore_machine(lane.machine)
            lane.state = "rolled-back"
        except FediError as exc:
            outcome, message = "failed", self.redact(str(exc))
            lane.state = "failed"
            self._record_partial(step, exc)
        except Exception as exc:  # a bug, not the outside world: still one clear outcome
            outcome, lane.state = "failed", "failed"
            message = self.redact(
                f"internal error in {step.kind} ({type(exc).__name__}: {exc}); please report it"
            )
        else:
            self.recorded = handler.record(self.recorded, step, self.desired, observed)
            self._recorder(self.recorded)
        ctx.settle_preflight()
        if outcome != "done":
            lane.message = message
        self._end_step(lane, step, outcome, message, started)
        return outcome

    def _end_step(
        self, lane: Lane, step: Step, outcome: StepOutcome, message: str, started: float
    ) -> None:
        self.outcomes[step.id] = outcome
        self.emit(
            StepFinished(
                deployment=self.deployment,
                at=self.now(),
                step=step.id,
                outcome=outcome,
                message=message,
                seconds=round(time.monotonic() - started, 3),
                target_machine=lane.machine,
            )
        )
        self._done[step.id].set()

    def _restore_machine(self, machine: str | None) -> None:
        if machine is not None:
            self.recorded = rolled_back(self.recorded, self.recorded_before, machine)
            self._recorder(self.recorded)

    def _record_partial(self, step: Step, exc: FediError) -> None:
        recorded = half_created(self.recorded, step, self.desired, exc)
        if recorded is not None:
            self.recorded = recorded
            self._recorder(recorded)

    # --- what steps use -----------------------------------------------------------------

    def endpoint(
        self, machine: str, *, address: str | None = None, host_key: str | None = None
    ) -> MachineEndpoint:
        return endpoint_of(
            self.desired,
            self.recorded,
            machine,
            state_file=self.state_file,
            known_hosts=self.known_hosts,
            address=address,
            host_key=host_key,
        )

    @property
    def preflight_only(self) -> bool:
        return self.options.preflight_only

    async def preflight_barrier(self, lane: Lane) -> None:
        if self._preflights_done.is_set():
            return
        self._release_slot(lane)
        await self._preflights_done.wait()
        await self._hold_slot(lane)
