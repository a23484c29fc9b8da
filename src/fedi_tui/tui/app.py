"""The Textual application: owns the loaded state, the jobs and the one error handler.

Screens are thin: they post requests (`tui.messages`) and watch `state` and
`probes`. Every job runs as a worker on the App, so leaving a screen never
cancels a save or a probe, and every failure reaches `_job_changed`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from fedi_tui.core.errors import FediError
from fedi_tui.tui import messages
from fedi_tui.tui.areas import AREA_TITLES, AREAS, READ_WRITE_AREAS, screen_class
from fedi_tui.tui.commands import FediCommands, TextualCommands
from fedi_tui.tui.screens.help import HelpScreen, everywhere, key_rows
from fedi_tui.tui.screens.loading import LoadingScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.themes import DEFAULT_THEME, load_themes, remember_theme, remembered_theme
from fedi_tui.tui.widgets.plansummary import PENDING

if TYPE_CHECKING:
    # the core (pydantic, the state file) is imported after the first frame is drawn
    from fedi_tui.core.deploy.history import HistoryIndex
    from fedi_tui.core.deploy.recorded import RecordedState
    from fedi_tui.core.probes import Prober
    from fedi_tui.core.state.file import LoadedState
    from fedi_tui.core.views.overviewmodel import DashboardView
    from fedi_tui.core.workspace import Workspace
    from fedi_tui.tui.deployrun import DeploymentController, PortsFactory
    from fedi_tui.tui.filewatch import StateFileWatch
    from fedi_tui.tui.probing import ProbeView
    from fedi_tui.tui.records import Records, WorkspaceCache


def _area(mode: str) -> Callable[[], Screen[Any]]:
    """An area screen imported when first visited: start-up loads only the first one."""

    def make() -> Screen[Any]:
        return screen_class(mode)()

    return make


class FediApp(App[str | None]):
    """fedi-tui's terminal UI on one state file. Build it with `tui.factory.build_app`."""

    TITLE = "fedi-tui"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        mode: _area(mode) for _, mode, _ in AREAS
    }
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        FediCommands,
        TextualCommands,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        # as in k9s and lazygit: ctrl+c quits (asking first when edits are unsaved)
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit", show=False),
        Binding("question_mark", "help", "Help"),
        *(Binding(key, f"area('{mode}')", label, show=False) for key, mode, label in AREAS),
    ]

    state: var[LoadedState] = var(cast("LoadedState", None), init=False)
    """The state file as last loaded or saved; screens watch it."""
    recorded: var[RecordedState | None] = var(None)
    """What fedi-tui recorded as done (read with the plan); None until read."""
    plan_text: var[str] = var(PENDING)
    """The plan summary of the saved state, worked out in a job after every load or save."""
    probes: var[Mapping[str, ProbeView]] = var(dict, init=False)
    """Last connection test per entry ('runtimes/pve-a'); screens watch it."""
    history: var[HistoryIndex | None] = var(None)
    """The deployment history (`core.deploy.history`), read with the recorded state."""
    run_tick: var[int] = var(0)
    """Bumped whenever the App's deployment moved on; the Deployments area watches it."""

    def __init__(
        self,
        loaded: LoadedState | None,
        *,
        path: Path | None = None,
        read_only: bool = False,
        mode: str = "dashboard",
        theme: str | None = None,
        remember: bool = True,
        themes: list[Theme] | None = None,
        setup_only: bool = False,
        prober: Prober | None = None,
        ports: PortsFactory | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.prober = prober
        """Runs connection tests (wired by the CLI); None: tests are not available."""
        self.ports = ports
        """Builds the adapters for a deployment (wired by the CLI); None: no Apply."""
        self.clock = clock or time.time
        """Now, for elapsed times (tests give a fixed one)."""
        self._deployments: DeploymentController | None = None
        if loaded is not None:
            self.set_reactive(FediApp.state, loaded)
        elif path is None:
            raise ValueError("FediApp needs a loaded state or the path to load it from")
        self.path = loaded.path if loaded is not None else cast(Path, path)
        self.load_error: FediError | None = None
        """Why the state file could not be opened; the TUI then exits with code 1."""
        self.read_only = read_only
        if read_only:
            from fedi_tui.core.readonly import enter_read_only

            enter_read_only()  # the core refuses every write too, whatever the UI offers
        self.start_mode = mode
        self.setup_only = setup_only
        """Started as `fedi-tui setup`: exit once the wizard saved."""
        self.unsaved: dict[str, bool] = {}
        self.first_view: DashboardView | None = None
        """The dashboard from the first-view cache, drawn while the state file is read."""
        self._pending_mode: str | None = None
        """An area asked for while the cached dashboard showed: opened once loaded."""
        self._first_key: tuple[LoadedState, str] | None = None
        """The state first read and the first-view key of the files it was read from."""
        self._remember = remember
        self._workspaces: WorkspaceCache | None = None
        self.file_watch: StateFileWatch | None = None
        """Re-reads the state file when it changes on disk (from the first load on)."""
        self._jobs: dict[Worker[Any], tuple[Callable[[Any], None] | None, Callable[[], None]]] = {}
        for t in themes if themes is not None else load_themes():
            self.register_theme(t)
        wanted = theme or remembered_theme() or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        self.sub_title = str(self.path) + ("  [read-only]" if read_only else "")

    @property
    def loaded(self) -> bool:
        """Whether the state file has been read (it is, before any area screen shows)."""
        return cast("LoadedState | None", self.state) is not None

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.loaded:
            self._set_recorded(self._read_recorded(self.state))
            self.switch_mode(self.start_mode)
            self.watch_state(self.state)
            self._watch_file()
            return
        # first frame now; read and validate the file (and import the core) behind it
        from fedi_tui.core.views.firstview import read_first_view

        first = read_first_view(self.path)
        if first.view is not None and self.start_mode == "dashboard" and not self.setup_only:
            self.first_view = first.view
            self.switch_mode(self.start_mode)  # drawn from the cache, redrawn once loaded
        else:
            self.push_screen(LoadingScreen(self.path))
        self.call_after_refresh(
            self.start_job, self._read_state, name="open the state file", group="state"
        )

    def _read_state(self) -> None:
        from fedi_tui.core.state.file import load_state
        from fedi_tui.core.views.firstview import view_key

        try:
            loaded = load_state(self.path)
        except FediError as error:
            self.call_from_thread(self._cannot_open, error)
            return
        key = view_key(self.path, loaded.text)  # of what was read, not of the file now
        recorded = self._read_recorded(loaded)
        self._first_key = (loaded, key)
        self.call_from_thread(self._opened, loaded, recorded)

    def remember_first_view(self, loaded: LoadedState, view: DashboardView) -> None:
        """The dashboard drew the state first read: keep its view for the next start."""
        first, self._first_key = self._first_key, None
        if first is None or first[0] is not loaded:
            return
        if view != self.first_view:
            from fedi_tui.core.views.firstview import write_first_view

            write_first_view(self.path, first[1], view)

    def watch_state(self, loaded: LoadedState) -> None:
        """Work out the plan summary of the state just loaded or saved."""
        self._drop_stale_probes(loaded)
        self.plan_text = PENDING

        def show(line: str) -> None:
            if self.state is loaded:  # a newer state has its own job
                self.plan_text = line

        def work() -> str:
            from fedi_tui.core.views.planline import summary_line

            try:
                workspace = self.workspace(loaded)
            except FediError as exc:
                return f"plan: unavailable — {exc}"
            return summary_line(workspace)

        # after the screen has drawn the new state: the plan is the slow part
        self.call_after_refresh(
            self.start_job, work, name="work out the plan", group="plan", done=show
        )

    def workspace(self, loaded: LoadedState | None = None) -> Workspace:
        """The Workspace of this state (default: the one shown) and the recorded state, made
        once per change: the plan line, the plan view and Apply share its mapping and
        rendering. FediError when the recorded state cannot be read. Safe in a thread."""
        from fedi_tui.tui.records import WorkspaceCache

        if self._workspaces is None:
            self._workspaces = WorkspaceCache()
        return self._workspaces.get(loaded if loaded is not None else self.state, self.recorded)

    @staticmethod
    def _read_recorded(loaded: LoadedState) -> Records:
        from fedi_tui.tui.records import read_records

        return read_records(loaded)

    def _set_recorded(self, records: Records) -> None:
        from fedi_tui.tui.records import set_records

        set_records(self, records)

    def refresh_records(self) -> None:
        """Read the recorded state and the history again (after a deployment)."""
        if self.loaded:
            loaded = self.state
            work = partial(self._read_recorded, loaded)
            self.start_job(
                work, name="read the recorded state", group="records", done=self._set_recorded
            )

    def _opened(self, loaded: LoadedState, recorded: Records) -> None:
        self._set_recorded(recorded)
        self.state = loaded
        pending, self._pending_mode = self._pending_mode, None
        if pending is not None:
            self.pop_screen()  # its loading screen
            self.switch_mode(pending)
        elif self.current_mode != self.start_mode or self.first_view is None:
            self.switch_mode(self.start_mode)
        self._watch_file()

    def _watch_file(self) -> None:
        from fedi_tui.tui.filewatch import StateFileWatch

        if self.file_watch is None:
            self.file_watch = StateFileWatch(self)

    def _cannot_open(self, error: FediError) -> None:
        self.load_error = error
        self.exit(return_code=1)

    def _theme_changed(self, theme: Theme) -> None:
        if self._remember:
            remember_theme(theme.name)

    # --- jobs -------------------------------------------------------------------

    def start_job(
        self,
        work: Callable[[], Any] | Awaitable[Any],
        *,
        name: str,
        group: str,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[], None] = lambda: None,
    ) -> Worker[Any]:
        """Run work (a function in a thread, or a coroutine) as an App worker."""
        thread = callable(work)
        worker: Worker[Any] = self.run_worker(
            work, name=name, group=group, thread=thread, exit_on_error=False
        )
        self._jobs[worker] = (done, failed)
        return worker

    @on(Worker.StateChanged)
    def _job_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        done, failed = self._jobs.pop(worker, (None, lambda: None))
        if event.state == WorkerState.SUCCESS:
            if done is not None:
                done(worker.result)
            return
        failed()
        if event.state == WorkerState.ERROR:
            self.show_error(worker.error, worker.name)

    def show_error(self, error: BaseException | None, doing: str) -> None:
        """The one place failures are shown: what happened and what to do, no traceback."""
        from fedi_tui.tui.errorview import show_error

        show_error(self, error, doing)

    # --- requests from screens --------------------------------------------------

    @on(messages.SaveEdits)
    def _save(self, request: messages.SaveEdits) -> None:
        if self.read_only:
            self.notify_read_only()
            return

        def saved(new: LoadedState) -> None:
            self.state = new
            self.notify(f"Saved {request.what} to {new.path.name}.", title="Saved")
            if request.then is not None:
                request.then(new)
            self.post_message(messages.StateSaved(request.what, new))

        from fedi_tui.core.state.file import save_state

        work = partial(save_state, self.state, list(request.edits))
        self.start_job(work, name=f"save {request.what}", group="state", done=saved)

    @on(messages.ReloadState)
    def _reload(self) -> None:
        from fedi_tui.core.state.file import load_state

        def read() -> tuple[LoadedState, Records]:
            new = load_state(self.path)
            return new, self._read_recorded(new)

        def reloaded(result: tuple[LoadedState, Records]) -> None:
            new, recorded = result
            self.unsaved.clear()
            self._set_recorded(recorded)
            self.state = new
            self.notify(f"Reloaded {new.path.name}.", title="Reloaded")

        self.start_job(read, name="reload", group="state", done=reloaded)

    @on(messages.TestConnection)
    def _test_connection(self, request: messages.TestConnection) -> None:
        from fedi_tui.tui.probing import start_test

        if self.prober is None:
            self.notify("Connection tests are not available here.", severity="warning")
            return
        start_test(self, self.prober, request.section, request.name)

    @on(messages.PinIdentity)
    def _pin(self, request: messages.PinIdentity) -> None:
        from fedi_tui.tui.probing import pin

        pin(self, request.report)

    def _drop_stale_probes(self, loaded: LoadedState) -> None:
        """Forget tests of entries whose endpoint or trust is no longer what was tested."""
        from fedi_tui.tui.probing import fresh_probes

        kept = fresh_probes(self.probes, loaded)
        if len(kept) != len(self.probes):
            self.probes = kept

    # --- the deployment ---------------------------------------------------------

    @property
    def deployments(self) -> DeploymentController:
        """The App's deployment (made on first use; it outlives every screen)."""
        if self._deployments is None:
            from fedi_tui.tui.deployrun import DeploymentController

            self._deployments = DeploymentController(self, self.ports)
        return self._deployments

    def on_unmount(self) -> None:
        """Going away with a deployment still running (a test's end, a lost terminal):
        stop it the Ctrl+C way rather than leave its thread half-way."""
        if self._deployments is not None:
            self._deployments.stop(timeout=30)

    @on(messages.DeploymentMessage)
    def _deployment(self, message: messages.DeploymentMessage) -> None:
        self.deployments.handle(message)

    @on(messages.EditsPending)
    def _edits_pending(self, event: messages.EditsPending) -> None:
        self.unsaved[event.source] = event.pending

    def notify_read_only(self) -> None:
        self.notify(
            "Started with --read-only: nothing can be changed. Restart without it to edit.",
            title="Read-only",
            severity="warning",
        )

    # --- actions ----------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A key typed right after one that focused a text field (`/`, a Tab) was sent
        to the widget focused before; it reaches the App without being a key for
        the field. It is text for the field, not a binding ("x" must not remove)."""
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))

    def areas(self) -> tuple[tuple[str, str, str], ...]:
        """(key, mode, title) of the areas this session offers: read-only has no setup."""
        return tuple(a for a in AREAS if not (self.read_only and a[1] in READ_WRITE_AREAS))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "area":
            if self.read_only and parameters and parameters[0] in READ_WRITE_AREAS:
                return False  # absent: the whole area is for changing the state file
            # `fedi-tui setup` is the wizard alone; and no area switches under a dialog
            return not self.setup_only and not isinstance(self.screen, ModalScreen)
        if action == "plan":
            return not self.setup_only  # the plan shows every operator's machines
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands but Quit (ours asks first) and Theme (ours lists fedi's)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Theme"):
                yield command

    def action_plan(self) -> None:
        """Show the plan of the saved state (worked out in a job behind the open view)."""
        from fedi_tui.core.views.planview import plan_text
        from fedi_tui.tui.screens.plan import PlanScreen

        if not self.loaded:
            return
        view = PlanScreen()
        self.push_screen(view)
        loaded = self.state

        def work() -> str:
            try:
                return plan_text(self.workspace(loaded))
            except FediError as exc:
                return f"No plan: {exc}"

        self.start_job(work, name="work out the plan", group="plan-view", done=view.show)

    async def action_area(self, mode: str) -> None:
        if self.setup_only:
            return
        if not self.loaded:
            if self.first_view is not None and self._pending_mode is None:
                if mode != self.current_mode:  # it shows "reading…" and opens once loaded
                    self._pending_mode = mode
                    self.push_screen(LoadingScreen(self.path))
                return
            self.notify(f"Still reading {self.path.name}…", title="Loading")
            return
        await self.switch_mode(mode)  # keys pressed meanwhile go to the new area

    def action_help(self) -> None:
        """The keys: this screen's first, then fedi-tui's everywhere, then the generic ones."""
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        here, generic = key_rows(self, screen)
        area = AREA_TITLES.get(self.current_mode, self.current_mode)
        if self.setup_only:
            area = "guided setup"
        self.push_screen(HelpScreen(area, here, everywhere(setup_only=self.setup_only), generic))

    async def action_quit(self) -> None:
        if self._deployments is not None and self._deployments.running:
            self._deployments.ask_before_quit()
            return
        pending = sorted(
            AREA_TITLES.get(source, source) for source, yes in self.unsaved.items() if yes
        )
        if not pending:
            self.exit()
            return
        body = f"Edits in {' and '.join(pending)} are not saved and would be lost."
        modal = ConfirmModal("Quit without saving?", body, yes="Quit", no="Stay")
        self.push_screen(modal, lambda ok: self.exit() if ok else None)
