"""Migrate an operator: choose the target, read the plan, run, pause, resume, finish, abort.

Thin: the plan and the checks come from `core.migrate`, the rows from
`core.views.migration`, the run from the App's `MigrationController` (it goes on
when this screen is closed, and the screen shows it again when reopened).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.record import MigrationRecord
from fedi_tui.core.views.migration import MigrationProgress, targets
from fedi_tui.tui.migraterun import Action, MigrationController
from fedi_tui.tui.screens.modals import ConfirmModal

if TYPE_CHECKING:
    from fedi_tui.core.workspace import Workspace


class MigrateScreen(Screen[None]):
    CSS_PATH = "migrate.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "run", "Run / resume"),
        Binding("p", "pause", "Pause"),
        Binding("f", "finish", "Finish"),
        Binding("x", "abort", "Abort"),
    ]

    def __init__(self, operator: str) -> None:
        super().__init__()
        self.operator = operator
        self.record: MigrationRecord | None = None
        self._shown: tuple[object, ...] = ()

    @property
    def controller(self) -> MigrationController:
        from fedi_tui.tui.app import FediApp

        assert isinstance(self.app, FediApp)
        return MigrationController.of(self.app)

    def compose(self) -> ComposeResult:
        from fedi_tui.tui.app import FediApp

        assert isinstance(self.app, FediApp)
        spec = self.app.state.spec
        op = spec.operators[self.operator]
        choices = targets(spec, self.operator)
        yield Static(
            f"Migrate operator {self.operator}: now on runtime {op.runtime}, storage {op.storage}",
            id="mig-title",
            markup=False,
        )
        with Horizontal(id="mig-form"):
            yield Select(
                [(r, r) for r in choices.runtimes],
                prompt="to runtime",
                id="mig-runtime",
                compact=True,
            )
            yield Select(
                [(s, s) for s in choices.storage],
                prompt="to storage",
                id="mig-storage",
                compact=True,
            )
            yield Input(placeholder=f"new domain (now {op.domain})", id="mig-domain", compact=True)
            yield Input(placeholder="DNS resolver ADDR:PORT", id="mig-resolver", compact=True)
        table: DataTable[str] = DataTable(id="mig-phases", cursor_type="row", zebra_stripes=True)
        table.add_columns(" ", "#", "phase", "progress")
        yield table
        with VerticalScroll(id="mig-plan-scroll"):
            yield Static("", id="mig-plan", markup=False)
        yield Static("", id="mig-status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from fedi_tui.core.migrate.start import current

        self.record = current(self._workspace(), self.operator)
        if self.record is not None:
            self._lock_form(self.record)
        self._show_plan()
        self._refresh(force=True)
        self.query_one("#mig-phases", DataTable).focus()
        self.set_interval(0.2, self._refresh)

    def _workspace(self) -> Workspace:
        from fedi_tui.tui.app import FediApp

        assert isinstance(self.app, FediApp)
        return self.app.workspace()

    def _lock_form(self, record: MigrationRecord) -> None:
        for widget_id in ("#mig-runtime", "#mig-storage", "#mig-domain"):
            self.query_one(widget_id).disabled = True
        self.query_one("#mig-runtime", Select).set_options([(record.target.runtime,) * 2])
        self.query_one("#mig-runtime", Select).value = record.target.runtime
        self.query_one("#mig-storage", Select).set_options([(record.target.storage,) * 2])
        self.query_one("#mig-storage", Select).value = record.target.storage
        self.query_one("#mig-domain", Input).value = record.target.domain
        if record.resolver:
            self.query_one("#mig-resolver", Input).value = record.resolver

    # --- the plan -----------------------------------------------------------------

    def _chosen(self) -> MigrationRecord:
        """The record to run: the current migration, or a new one from the form."""
        from fedi_tui.core.deploy.runner import who
        from fedi_tui.core.migrate.start import begin

        runtime = self.query_one("#mig-runtime", Select).value
        storage = self.query_one("#mig-storage", Select).value
        domain = self.query_one("#mig-domain", Input).value.strip() or None
        resolver = self.query_one("#mig-resolver", Input).value.strip() or None
        record, _new = begin(
            self._workspace(),
            self.operator,
            runtime=runtime if isinstance(runtime, str) else None,
            storage=storage if isinstance(storage, str) else None,
            domain=domain,
            resolver=resolver,
            user=who(),
        )
        return record

    def _show_plan(self) -> None:
        from fedi_tui.core.migrate.plan import migration_plan
        from fedi_tui.core.migrate.slot import target_view

        text = self.query_one("#mig-plan", Static)
        if self.record is None and not all(
            isinstance(self.query_one(f"#mig-{which}", Select).value, str)
            for which in ("runtime", "storage")
        ):
            text.update(
                "Choose the runtime and the storage to move to (another provider's); "
                "the plan of the migration shows here."
            )
            return
        try:
            record = self._chosen()
            workspace = self._workspace()
            lines = migration_plan(workspace, target_view(workspace, record), record).lines()
            text.update("\n".join(lines))
        except FediError as exc:
            text.update(str(exc))

    @on(Select.Changed)
    @on(Input.Submitted)
    def _form_changed(self) -> None:
        if self.record is None:
            self._show_plan()

    # --- progress -----------------------------------------------------------------

    def _progress(self) -> MigrationProgress | None:
        controller = self.controller
        if controller.operator == self.operator and controller.progress is not None:
            return controller.progress
        if self.record is None:
            return MigrationProgress.none_yet(self.operator)
        return MigrationProgress.of(self.record)

    def _refresh(self, force: bool = False) -> None:
        controller = self.controller
        changed = controller.drain() if controller.operator == self.operator else False
        progress = self._progress()
        shown = (controller.running, controller.pausing, progress and progress.outcome)
        if not (changed or force or shown != self._shown):
            return
        if self._shown and shown[0] is False and self._shown[0] is True:
            from fedi_tui.core.migrate.record import load_migration

            self.record = load_migration(self._workspace().state_dir, self.operator)
        self._shown = shown
        table = self.query_one("#mig-phases", DataTable)
        table.clear()
        if progress is not None:
            for row in progress.all_rows:
                table.add_row(row.mark, str(row.number), row.title, row.detail)
        self.query_one("#mig-status", Static).update(self._status(progress))

    def _status(self, progress: MigrationProgress | None) -> str:
        controller = self.controller
        if controller.running and controller.operator == self.operator:
            return "pausing after the current step…" if controller.pausing else "running…"
        if progress is None or self.record is None:
            return "no migration yet: choose the target (Tab), then r runs it"
        ended = f"{progress.outcome}: {progress.message} · " if progress.outcome else ""
        status = self.record.status if self.record is not None else progress.status
        return f"{ended}status {status}"

    # --- actions ------------------------------------------------------------------

    def _start(self, record: MigrationRecord, action: Action) -> None:
        from fedi_tui.tui.app import FediApp

        assert isinstance(self.app, FediApp)
        if self.controller.start(self._workspace(), record, action):
            self.record = record
            self._lock_form(record)
            self._refresh(force=True)

    def action_run(self) -> None:
        try:
            record = self._chosen()
        except FediError as exc:
            self.notify(str(exc), title="Cannot migrate", severity="error", timeout=10)
            return
        if record.status == "migrated":
            self.notify("Every phase is done: f finishes, x aborts.")
            return
        self._start(record, "run")

    def action_pause(self) -> None:
        self.controller.pause()
        self._refresh(force=True)

    def _ask(self, action: Action, title: str, body: str) -> None:
        record = self.record
        if record is None:
            self.notify("There is no migration of this operator under way.", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes and record is not None:
                self._start(record, action)

        self.app.push_screen(ConfirmModal(title, body, yes=title), answer)

    def action_finish(self) -> None:
        self._ask(
            "finish",
            "Finish",
            "Decommission the source: its machines are destroyed or cleared (its buckets are "
            "kept), and fedi.toml names the target.",
        )

    def action_abort(self) -> None:
        self._ask(
            "abort", "Abort", "Start the source's apps again and remove everything on the target."
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from fedi_tui.tui.app import FediApp

        if action in ("run", "pause", "finish", "abort"):
            app = self.app
            if isinstance(app, FediApp) and app.read_only:
                return False
        return True
