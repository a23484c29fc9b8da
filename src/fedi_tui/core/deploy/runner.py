"""One way to run a deployment, for the CLI and the TUI alike.

`DeploymentRun` takes the deploy lock of the state directory (one run at a
time; the lock file says who holds it), opens the run's history log, builds
the engine with the ports the caller wired, and after the run closes what the
ports made. Its consumers get every event through the sinks they pass.

A longer job made of several engine runs (a migration, `core.migrate`) holds the
lock and the history itself and passes `log`; it may also keep the records and
secrets of what it builds apart (`recorder`, `secrets`).
"""

from __future__ import annotations

import contextlib
import getpass
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from fedi_tui.core.deploy.engine import ApplyOptions, Engine, RunResult
from fedi_tui.core.deploy.events import Event, EventSink
from fedi_tui.core.deploy.history import HistoryWriter, new_deployment_id
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.errors import FediError, LockHeld
from fedi_tui.core.readonly import refuse_writes
from fedi_tui.core.state.lock import state_lock
from fedi_tui.core.workspace import Workspace


def who() -> str:
    """`user@host` of the person running fedi-tui (for the history)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def known_hosts_file(state_dir: Path) -> Path:
    """fedi-tui's known_hosts in the state directory (created empty, owner-only)."""
    path = state_dir / "known_hosts"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
    return path


class DeploymentRun:
    """`with DeploymentRun(...) as run: result = await run.run()` (or `asyncio.run`)."""

    def __init__(
        self,
        workspace: Workspace,
        planned: Planned,
        ports: Ports,
        *,
        sinks: Sequence[EventSink],
        steps: Sequence[Step] | None = None,
        options: ApplyOptions | None = None,
        kind: str = "apply",
        user: str | None = None,
        deployment: str | None = None,
        log: EventSink | None = None,
        recorder: Callable[[RecordedState], None] | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        """`log`: the caller holds the deploy lock and writes the history, and every event
        goes there (no lock is taken, no log opened). `recorder`: where finished steps are
        recorded instead of `<state dir>/recorded.json`; `secrets`: the store to use."""
        self.workspace = workspace
        self.planned = planned
        self.ports = ports
        self.sinks = tuple(sinks)
        self.steps = tuple(steps if steps is not None else planned.plan.steps)
        self.options = options or ApplyOptions()
        self.kind = kind
        self.user = user or who()
        self.id = deployment or new_deployment_id()
        self._log = log
        self._recorder = recorder
        self._secrets = secrets
        self._stack = contextlib.ExitStack()
        self.history: HistoryWriter | None = None
        self.engine: Engine | None = None

    @property
    def log_path(self) -> Path:
        assert self.history is not None
        return self.history.path

    def __enter__(self) -> DeploymentRun:
        refuse_writes(f"run a deployment ({self.kind})")
        state_dir = self.workspace.state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._log is None:
            try:
                self._stack.enter_context(state_lock(state_dir / "deploy", timeout=0.2))
            except LockHeld as exc:
                raise FediError(f"another deployment is running: {exc}") from None
        try:
            if self._log is None:
                from fedi_tui.core.migrate.start import refuse_touching_migrations

                refuse_touching_migrations(self.workspace, self.steps)  # under the lock
                self.history = HistoryWriter(state_dir, self.id, kind=self.kind)
                self._stack.callback(self.history.close)
            secrets = self._secrets or SecretStore(state_dir)
            self.engine = Engine(
                planned=self.planned,
                desired=Desired(
                    self.planned.config,
                    self.planned.rendered,
                    self.workspace.spec,
                    self.workspace.modules,
                ),
                recorded=self.workspace.recorded,
                ports=self.ports,
                secrets=secrets,
                recorder=self._record,
                sink=self._emit,
                deployment=self.id,
                state_file=self.workspace.path,
                known_hosts=known_hosts_file(state_dir),
                user=self.user,
                options=self.options,
                steps=self.steps,
                secret_values=secrets.all_values(),
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
        self._stack.close()

    def _record(self, recorded: RecordedState) -> None:
        if self._recorder is not None:
            self._recorder(recorded)
        else:
            save_recorded(self.workspace.state_dir, recorded)

    def _emit(self, event: Event) -> None:
        if self._log is not None:
            self._log(event)
        else:
            assert self.history is not None
            self.history(event)
        for sink in self.sinks:
            sink(event)

    async def run(self) -> RunResult:
        """Run the engine; the ports' adapters are closed afterwards, whatever happened."""
        assert self.engine is not None, "use DeploymentRun as a context manager"
        try:
            return await self.engine.run()
        finally:
            await self.ports.close()

    @property
    def recorded(self) -> RecordedState:
        assert self.engine is not None
        return self.engine.recorded
