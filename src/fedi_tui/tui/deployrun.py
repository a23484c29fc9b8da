"""The App's deployment: one run at a time, owned by the App, never by a screen.

A run is `core.deploy.runner.DeploymentRun` — the same lock, history log and
engine as `fedi-tui apply` — with the ports the CLI wires (passed in as a
factory; the TUI never builds adapters). It runs in a thread with its own
asyncio loop, so heavy output never stalls the screen. Its events come through
the one event stream: the sink here buffers them and posts one
`DeploymentProgressed` while the buffer is non-empty; the App drains the whole
batch at once into `RunProgress` (the progress table's rows).

Cancelling is the CLI's Ctrl+C path: the run's task is cancelled, the engine
stops starting steps, terminates the remote commands, ends every machine and
records where it stopped; the outcome is "interrupted" (shown "cancelled").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedi_tui.tui import messages

if TYPE_CHECKING:
    from fedi_tui.core.deploy.events import Event
    from fedi_tui.core.deploy.pipeline import Planned
    from fedi_tui.core.deploy.plan import Step
    from fedi_tui.core.deploy.ports import Ports
    from fedi_tui.core.views.progress import RunProgress
    from fedi_tui.core.workspace import Workspace
    from fedi_tui.tui.app import FediApp

PortsFactory = Callable[["Workspace"], "Ports"]
"""Builds the adapters behind the core's ports for a workspace (`cli.wiring.build_ports`)."""

OUTCOME_WORDS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "rolled-back": "was rolled back",
    "interrupted": "was cancelled",
    "preflight-ok": "passed preflight",
}


class DeploymentController:
    """Starts, follows and cancels the App's deployment (see the module docstring)."""

    def __init__(self, app: FediApp, ports: PortsFactory | None) -> None:
        self.app = app
        self.ports = ports
        self.progress: RunProgress | None = None
        """The rows of the current (or last) run; None before the first."""
        self.log_path: Path | None = None
        self.deployment: str | None = None
        self.cancelling = False
        self.running = False
        self._lock = threading.Lock()
        self._buffer: list[Event] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancel_asked = False
        self.exit_after_run = False
        """Quit once the run has ended (asked for while it ran)."""
        self._over = threading.Event()
        self._over.set()
        self.listeners: list[Callable[[Sequence[Event]], None]] = []
        """Called with each batch of events, in the App's thread (e.g. a live log view)."""

    def handle(self, message: messages.DeploymentMessage) -> None:
        """Requests from the screens, and what the run's thread says (on the App)."""
        if isinstance(message, messages.ApplyPlan):
            self.start(message.workspace, message.planned)
        elif isinstance(message, messages.CancelDeployment):
            self.cancel()
        elif isinstance(message, messages.DeploymentProgressed):
            self.drain()
        elif isinstance(message, messages.DeploymentStarted):
            self.app.refresh_records()  # the history lists the run from its start
        elif isinstance(message, messages.DeploymentEnded):
            self.app.refresh_records()  # what it did is recorded: a new plan, a new history
            if self.exit_after_run:
                self.app.exit()

    # --- starting -----------------------------------------------------------------

    def start(
        self, workspace: Workspace, planned: Planned, steps: Sequence[Step] | None = None
    ) -> bool:
        """Start applying `planned` (False, saying why, when it cannot start)."""
        from fedi_tui.core.deploy.steps.base import Desired
        from fedi_tui.core.views.progress import RunProgress, expected_steps

        app = self.app
        if app.read_only:
            app.notify_read_only()
            return False
        if self.running:
            app.notify("A deployment is running; wait for it to end.", severity="warning")
            return False
        if self.ports is None:
            app.notify("Deploying is not available here.", severity="warning")
            return False
        chosen = tuple(steps if steps is not None else planned.plan.steps)
        desired = Desired(planned.config, planned.rendered, workspace.spec, workspace.modules)
        expected = expected_steps(chosen, desired, planned.recorded)
        self.progress = RunProgress.of((), expected)
        self.log_path = self.deployment = None
        self.running, self.cancelling, self._cancel_asked = True, False, False
        self._buffer.clear()
        self._over.clear()
        app.run_tick += 1
        app.start_job(
            lambda: self._run(workspace, planned, chosen),
            name="apply the plan",
            group="deploy",
            done=lambda _result: self._ended(),
            failed=self._ended,
        )
        return True

    def _run(self, workspace: Workspace, planned: Planned, steps: tuple[Step, ...]) -> None:
        """In the worker thread: the whole run, like `fedi-tui apply` after its question."""

        try:
            self._run_in_thread(workspace, planned, steps)
        finally:
            self._over.set()

    def _run_in_thread(
        self, workspace: Workspace, planned: Planned, steps: tuple[Step, ...]
    ) -> None:
        from fedi_tui.core.deploy.runner import DeploymentRun

        assert self.ports is not None
        ports = self.ports(workspace)
        with DeploymentRun(workspace, planned, ports, sinks=[self._sink], steps=steps) as run:
            self.deployment, self.log_path = run.id, run.log_path
            self.app.post_message(messages.DeploymentStarted(run.id, run.log_path))

            async def main() -> None:
                self._task = asyncio.current_task()
                self._loop = asyncio.get_running_loop()
                if self._cancel_asked:  # asked before the loop existed
                    raise asyncio.CancelledError
                await run.run()

            try:
                asyncio.run(main())
            except asyncio.CancelledError:
                pass  # the engine ended every machine and said so in its events
            finally:
                self._loop = self._task = None

    # --- events -------------------------------------------------------------------

    def _sink(self, event: Event) -> None:
        """The TUI's consumer of the run's events (in the run's thread): never blocks."""
        with self._lock:
            first = not self._buffer
            self._buffer.append(event)
        if first:
            self.app.post_message(messages.DeploymentProgressed())

    def drain(self) -> None:
        """In the App's thread: take every buffered event into the progress rows."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch or self.progress is None:
            return
        self.progress.feed(batch)
        for listener in list(self.listeners):
            listener(batch)
        self.app.run_tick += 1

    # --- cancelling and the end ---------------------------------------------------

    def cancel(self) -> None:
        """Stop the run the way Ctrl+C stops `fedi-tui apply` (asked first by the screen)."""
        if not self.running or self.cancelling:
            return
        self.cancelling = self._cancel_asked = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)
        self.app.run_tick += 1

    def ask_before_quit(self) -> None:
        """Quitting while the run goes on: cancel it first (asked), then quit when it ended."""
        from fedi_tui.tui.screens.modals import ConfirmModal

        body = (
            "Quitting cancels it first, as Ctrl+C does in `fedi-tui apply`: running steps "
            "stop, every machine ends cleanly and the recorded state says where."
        )
        modal = ConfirmModal("A deployment is running", body, yes="Cancel it and quit", no="Stay")

        def answer(ok: bool | None) -> None:
            if ok:
                self.exit_after_run = True
                self.cancel()

        self.app.push_screen(modal, answer)

    def stop(self, timeout: float) -> bool:
        """The App is going away: cancel the run and wait (at most `timeout` s) until every
        machine has ended cleanly and the log is closed. True when it did."""
        if self._over.is_set():
            return True
        self.cancelling = False
        self.cancel()
        return self._over.wait(timeout)

    def _ended(self) -> None:
        self.drain()
        self.running = self.cancelling = False
        self.app.run_tick += 1
        self.app.post_message(messages.DeploymentEnded(self.deployment, self.log_path))
        progress = self.progress
        if progress is None or progress.outcome is None:
            return  # it did not start (the error says why)
        word = OUTCOME_WORDS.get(progress.outcome, progress.outcome)
        severity = "information" if progress.outcome in ("succeeded", "preflight-ok") else "error"
        if progress.outcome in ("rolled-back", "interrupted"):
            severity = "warning"
        self.app.notify(
            f"Deployment {progress.deployment} {word}: {progress.message}",
            title="Deployment ended",
            severity=severity,  # type: ignore[arg-type]
            timeout=10,
        )
