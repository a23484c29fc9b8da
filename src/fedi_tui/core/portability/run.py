"""One backup or restore run: the deploy lock, the history log, and its events.

Like `DeploymentRun` for apply: one run at a time per state directory (the same
`deploy.lock`), every event into `<state dir>/deployments/<id>.jsonl` and the
index (`kind` "backup" / "restore"), and to the sinks the caller passes (the CLI
printer, the TUI). Text from machines is redacted of every known secret and
shown with control characters made visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from fedi_tui.core.deploy.events import (
    Event,
    EventSink,
    LineStream,
    LogLine,
    RunFinished,
    RunOutcome,
    RunStarted,
    StepFinished,
    StepStarted,
    TransferPart,
)
from fedi_tui.core.deploy.history import HistoryWriter, new_deployment_id
from fedi_tui.core.deploy.ports import LineSink, Stream
from fedi_tui.core.deploy.redact import Redactor
from fedi_tui.core.deploy.runner import who
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.errors import FediError, LockHeld
from fedi_tui.core.portability.progress import Meter
from fedi_tui.core.readonly import refuse_writes
from fedi_tui.core.state.lock import state_lock
from fedi_tui.core.workspace import Workspace


@dataclass
class Step:
    run: DataRun
    id: str
    machine: str | None

    def log(self, text: str, stream: LineStream = "info") -> None:
        self.run.emit(
            LogLine(
                deployment=self.run.id,
                at=time.time(),
                step=self.id,
                target_machine=self.machine,
                stream=stream,
                text=self.run.redact(text),
            )
        )

    def line_sink(self) -> LineSink:
        def sink(stream: Stream, line: str) -> None:
            self.log(line, stream)

        return sink

    def meter(self, part: TransferPart, what: str) -> Meter:
        return Meter(
            self.run.emit,
            deployment=self.run.id,
            step=self.id,
            part=part,
            what=what,
            machine=self.machine,
        )


@dataclass
class DataRun:
    """`with DataRun(ws, kind="backup", sinks=[…]) as run: async with run.step(…) as s: …`."""

    workspace: Workspace
    kind: str
    sinks: Sequence[EventSink] = ()
    summary: str = ""
    machines: tuple[str, ...] = ()
    id: str = field(default_factory=new_deployment_id)
    failed: list[str] = field(default_factory=list)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _history: HistoryWriter | None = None
    _redact: Redactor = field(default_factory=Redactor)

    def __enter__(self) -> DataRun:
        refuse_writes(f"run a {self.kind}")
        state_dir = self.workspace.state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._stack.enter_context(state_lock(state_dir / "deploy", timeout=0.2))
        except LockHeld as exc:
            raise FediError(f"a deployment or another {self.kind} is running: {exc}") from None
        try:
            self._history = HistoryWriter(state_dir, self.id, kind=self.kind)
            self._stack.callback(self._history.close)
            self._redact.add(*SecretStore(state_dir).all_values())
            self.emit(
                RunStarted(
                    deployment=self.id,
                    at=time.time(),
                    user=who(),
                    state_file=str(self.workspace.path),
                    summary=self.summary or self.kind,
                    machines=self.machines,
                    steps=0,
                    pid=os.getpid(),
                )
            )
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
        outcome: RunOutcome = "succeeded"
        message = f"{self.kind} finished"
        if error is not None:
            interrupted = isinstance(error, (KeyboardInterrupt, asyncio.CancelledError))
            outcome = "interrupted" if interrupted else "failed"
            message = self.redact(str(error).splitlines()[0] if str(error) else outcome)
        try:
            self.emit(
                RunFinished(deployment=self.id, at=time.time(), outcome=outcome, message=message)
            )
        finally:
            self._stack.close()

    def redact(self, text: str) -> str:
        return self._redact(text)

    def remember_secret(self, *values: str) -> None:
        self._redact.add(*values)

    def emit(self, event: Event) -> None:
        if self._history is not None:
            self._history(event)
        for sink in self.sinks:
            sink(event)

    @contextlib.asynccontextmanager
    async def step(self, step: str, machine: str | None, description: str) -> AsyncIterator[Step]:
        """StepStarted, then StepFinished done / failed (with the error's message)."""
        started = time.monotonic()
        self.emit(
            StepStarted(
                deployment=self.id,
                at=time.time(),
                step=step,
                target_machine=machine,
                description=description,
            )
        )
        try:
            yield Step(self, step, machine)
        except BaseException as exc:
            is_error = isinstance(exc, Exception)
            self.emit(
                StepFinished(
                    deployment=self.id,
                    at=time.time(),
                    step=step,
                    target_machine=machine,
                    outcome="failed" if is_error else "interrupted",
                    message=self.redact(str(exc)) if is_error else "",
                    seconds=round(time.monotonic() - started, 3),
                )
            )
            raise
        self.emit(
            StepFinished(
                deployment=self.id,
                at=time.time(),
                step=step,
                target_machine=machine,
                outcome="done",
                seconds=round(time.monotonic() - started, 3),
            )
        )
