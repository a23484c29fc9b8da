"""One run of a migration: the deploy lock, one history entry (kind "migrate"), the phases.

`with MigrationRun(...) as run: outcome = await run.run()` (or `.finish()`,
`.abort()`). The run holds the state directory's deploy lock for its whole
length (no apply runs beside it), writes every event to
`<state dir>/deployments/<id>.jsonl` like a deployment, and records each phase
before and after it runs (`core.migrate.record`). `pause()` stops it after the
current step; running it again resumes.

Each phase is announced as a step `phase:<name>` (StepStarted / StepFinished),
its progress as log lines of that step, so `logs`, `history` and the TUI show
a migration with the same tools as a deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from fedi_tui.core.deploy.engine import ApplyOptions
from fedi_tui.core.deploy.events import (
    Event,
    EventSink,
    RunFinished,
    RunOutcome,
    RunStarted,
    StepFinished,
    StepStarted,
)
from fedi_tui.core.deploy.history import HistoryWriter, new_deployment_id
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.deploy.runner import known_hosts_file, who
from fedi_tui.core.errors import FediError, LockHeld
from fedi_tui.core.migrate.context import MigrationContext, Paused, PhaseFailed
from fedi_tui.core.migrate.phases import PHASE_RUNNERS
from fedi_tui.core.migrate.record import PHASES, TITLES, MigrationRecord
from fedi_tui.core.state.lock import state_lock
from fedi_tui.core.workspace import Workspace

DIE_IN = "FEDI_TUI_TEST_MIGRATE_DIE_IN"
"""Tests only: the name of a phase; the process kills itself (SIGKILL) once that phase's
work is done but before the phase is recorded as done — the worst moment to crash."""

Outcome = RunOutcome | str


class MigrationRun:
    def __init__(
        self,
        source: Workspace,
        record: MigrationRecord,
        ports: Ports,
        *,
        sinks: Sequence[EventSink],
        options: ApplyOptions | None = None,
        dns_timeout: float = 600.0,
        dns_interval: float = 2.0,
        user: str | None = None,
        deployment: str | None = None,
    ) -> None:
        self.source = source
        self.sinks = tuple(sinks)
        self.id = deployment or new_deployment_id()
        self.user = user or who()
        self._stack = contextlib.ExitStack()
        self.history: HistoryWriter | None = None
        self.ctx = MigrationContext(
            source=source,
            record=record,
            ports=ports,
            emit=self._emit,
            deployment=self.id,
            user=self.user,
            known_hosts=known_hosts_file(source.state_dir),
            options=options or ApplyOptions(),
            dns_timeout=dns_timeout,
            dns_interval=dns_interval,
        )

    @property
    def record(self) -> MigrationRecord:
        return self.ctx.record

    @property
    def log_path(self) -> str:
        assert self.history is not None
        return str(self.history.path)

    def pause(self) -> None:
        """Stop after the current step (thread-safe enough: a flag read between steps)."""
        self.ctx.pause_requested = True

    def __enter__(self) -> MigrationRun:
        state_dir = self.source.state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._stack.enter_context(state_lock(state_dir / "deploy", timeout=0.2))
        except LockHeld as exc:
            raise FediError(f"another deployment or migration is running: {exc}") from None
        try:
            self.history = HistoryWriter(state_dir, self.id, kind="migrate")
            self._stack.callback(self.history.close)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _emit(self, event: Event) -> None:
        assert self.history is not None, "use MigrationRun as a context manager"
        self.history(event)
        for sink in self.sinks:
            sink(event)

    # --- running ----------------------------------------------------------------------

    async def run(self) -> Outcome:
        """Run (or resume) the phases; 'succeeded' once the target serves."""
        r = self.record
        names = [p for p in PHASES if r.phase(p).state != "done"]
        summary = (
            f"migrate {r.operator}: {r.source.runtime}/{r.source.storage} → "
            f"{r.target.runtime}/{r.target.storage}"
            + (f", domain {r.source.domain} → {r.target.domain}" if r.domain_changes else "")
        )
        return await self._phases(summary, [(n, PHASE_RUNNERS[n]) for n in names], "migrated")

    async def _phases(
        self,
        summary: str,
        phases: Sequence[tuple[str, Callable[[MigrationContext], Awaitable[None]]]],
        status_after: str,
    ) -> Outcome:
        self._emit(
            RunStarted(
                deployment=self.id,
                at=time.time(),
                user=self.user,
                state_file=str(self.source.path),
                summary=summary,
                machines=(),
                steps=len(phases),
                pid=os.getpid(),
            )
        )
        outcome: RunOutcome = "succeeded"
        message = ""
        try:
            for name, runner in phases:
                if not await self._phase(name, runner):
                    outcome, message = "failed", self.record.phase(name).message
                    break
                if self.ctx.pause_requested:
                    outcome, message = "interrupted", "paused; run the migration again to resume"
                    break
            else:
                self.ctx.save(self.record.model_copy(update={"status": status_after}))
                message = {
                    "migrated": "the target serves; `--finish` decommissions the source",
                    "finished": "the source is decommissioned and fedi.toml names the target",
                    "aborted": "the source serves again and the target is removed",
                }.get(status_after, "")
        except (asyncio.CancelledError, KeyboardInterrupt):
            outcome, message = "interrupted", "interrupted; run the migration again to resume"
            raise
        finally:
            self._emit(
                RunFinished(deployment=self.id, at=time.time(), outcome=outcome, message=message)
            )
        return outcome

    async def _phase(
        self, name: str, runner: Callable[[MigrationContext], Awaitable[None]]
    ) -> bool:
        ctx = self.ctx
        ctx.phase = name
        started = time.time()
        ctx.save(ctx.record.with_phase(name, state="running", started=started, message=""))
        step = f"phase:{name}"
        self._emit(StepStarted(deployment=self.id, at=started, step=step, description=TITLES[name]))
        try:
            await runner(ctx)
        except Paused:
            ctx.save(ctx.record.with_phase(name, state="pending", message="paused"))
            self._finished(step, "interrupted", "paused", started)
            return True
        except (PhaseFailed, FediError) as exc:
            message = ctx.redact(str(exc))
            ctx.save(ctx.record.with_phase(name, state="failed", message=message))
            self._finished(step, "failed", message, started)
            return False
        except (asyncio.CancelledError, KeyboardInterrupt):
            ctx.save(ctx.record.with_phase(name, state="pending", message="interrupted"))
            self._finished(step, "interrupted", "interrupted", started)
            raise
        if os.environ.get(DIE_IN) == name:
            os.kill(os.getpid(), signal.SIGKILL)
        ctx.save(ctx.record.with_phase(name, state="done", finished=time.time()))
        self._finished(step, "done", "", started)
        return True

    def _finished(self, step: str, outcome: str, message: str, started: float) -> None:
        self._emit(
            StepFinished(
                deployment=self.id,
                at=time.time(),
                step=step,
                outcome=outcome,  # type: ignore[arg-type]
                message=message,
                seconds=time.time() - started,
            )
        )

    async def finish(self, *, prune_data: bool = False) -> Outcome:
        from fedi_tui.core.migrate.finish import finish_phase

        if self.record.status != "migrated":
            raise FediError(
                f"operator {self.record.operator}: the migration is {self.record.status}, not "
                "done; run `fedi-tui migrate --operator "
                f"{self.record.operator}` until it completes, then --finish"
            )

        async def runner(ctx: MigrationContext) -> None:
            await finish_phase(ctx, prune_data=prune_data)

        summary = f"finish the migration of {self.record.operator}"
        return await self._phases(summary, [("finish", runner)], "finished")

    async def abort(self) -> Outcome:
        from fedi_tui.core.migrate.finish import abort_phase

        if self.record.status not in ("running", "migrated"):
            raise FediError(
                f"operator {self.record.operator}: the migration is "
                f"{self.record.status}; nothing to abort"
            )
        summary = f"abort the migration of {self.record.operator}"
        return await self._phases(summary, [("abort", abort_phase)], "aborted")
