"""The App's migration: one at a time, owned by the App (it outlives the migration screen).

A run is `core.migrate.run.MigrationRun` — the same deploy lock, history log and
phases as `fedi-tui migrate` — with the ports the CLI wires (the App's ports
factory). It runs in a worker thread with its own asyncio loop. Its events are
buffered here; the screen drains them into `MigrationProgress` on a timer.
Pause is the run's own: it stops after the current step, recorded, and a later
run resumes there.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fedi_tui.core.deploy.events import Event
    from fedi_tui.core.migrate.record import MigrationRecord
    from fedi_tui.core.migrate.run import MigrationRun
    from fedi_tui.core.views.migration import MigrationProgress
    from fedi_tui.core.workspace import Workspace
    from fedi_tui.tui.app import FediApp

Action = Literal["run", "finish", "abort"]
_ATTRIBUTE = "_fedi_migration"


class MigrationController:
    def __init__(self, app: FediApp) -> None:
        self.app = app
        self.progress: MigrationProgress | None = None
        self.operator: str | None = None
        self.running = False
        self.pausing = False
        self._run: MigrationRun | None = None
        self._lock = threading.Lock()
        self._buffer: list[Event] = []

    @classmethod
    def of(cls, app: FediApp) -> MigrationController:
        """The App's controller (made on first use, kept on the App)."""
        found = getattr(app, _ATTRIBUTE, None)
        if not isinstance(found, MigrationController):
            found = cls(app)
            setattr(app, _ATTRIBUTE, found)
        return found

    def start(
        self,
        workspace: Workspace,
        record: MigrationRecord,
        action: Action = "run",
        *,
        prune_data: bool = False,
    ) -> bool:
        from fedi_tui.core.views.migration import MigrationProgress

        app = self.app
        if app.read_only:
            app.notify_read_only()
            return False
        if self.running:
            app.notify("A migration is running; pause it or wait for it.", severity="warning")
            return False
        if app.ports is None:
            app.notify("Migrating is not available here.", severity="warning")
            return False
        self.progress = MigrationProgress.of(record)
        self.operator = record.operator
        self.running, self.pausing = True, False
        self._buffer.clear()
        app.start_job(
            lambda: self._work(workspace, record, action, prune_data),
            name=f"migrate {record.operator}",
            group="migrate",
            done=lambda _result: self._ended(),
            failed=self._ended,
        )
        return True

    def _work(
        self, workspace: Workspace, record: MigrationRecord, action: Action, prune_data: bool
    ) -> None:
        """In the worker thread: like `fedi-tui migrate` after its question."""
        from fedi_tui.core.migrate.record import save_migration
        from fedi_tui.core.migrate.run import MigrationRun

        assert self.app.ports is not None
        save_migration(workspace.state_dir, record)
        ports = self.app.ports(workspace)
        with MigrationRun(workspace, record, ports, sinks=[self._sink]) as run:
            self._run = run
            if self.pausing:
                run.pause()
            try:
                if action == "finish":
                    asyncio.run(run.finish(prune_data=prune_data))
                elif action == "abort":
                    asyncio.run(run.abort())
                else:
                    asyncio.run(run.run())
            finally:
                self._run = None

    def _sink(self, event: Event) -> None:
        with self._lock:
            self._buffer.append(event)

    def pause(self) -> None:
        """Stop after the current step (the run records where)."""
        if not self.running:
            return
        self.pausing = True
        if self._run is not None:
            self._run.pause()

    def drain(self) -> bool:
        """In the App's thread: feed the buffered events to the progress; True if any."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch and self.progress is not None:
            self.progress.feed(batch)
        return bool(batch)

    def _ended(self) -> None:
        self.drain()
        self.running = False
        progress = self.progress
        if progress is not None and progress.outcome is not None:
            severity = "information" if progress.outcome == "succeeded" else "warning"
            self.app.notify(
                f"Migration of {progress.operator}: {progress.outcome}. {progress.message}",
                title="Migration",
                severity=severity,  # type: ignore[arg-type]
                timeout=10,
            )
