"""Deployments: the plan (whole provider or one operator), Apply, the run's progress, history.

The screen is thin: the plan comes from `core.views.planview` on the App's
Workspace, the run belongs to the App (`tui.deployrun`) and survives this
screen, the history rows come from `core.views.history`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static, TabbedContent, TabPane

from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.views.history import HistoryRow, history_rows
from fedi_tui.core.views.planview import PlanGroup, PlanView, plan_view
from fedi_tui.core.workspace import Workspace
from fedi_tui.tui import messages
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.screens.logs import LogsScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.widgets.filtertable import FilterTable
from fedi_tui.tui.widgets.progresstable import ProgressTable
from fedi_tui.tui.widgets.tabs import FocusTabs

if TYPE_CHECKING:
    from fedi_tui.tui.liveobserve import LiveObservation

MARK_STYLES = {"+": "success", "~": "warning", "-": "error", "?": "accent"}
WORKING = "working out the plan …"


class DeploymentsScreen(AreaScreen):
    AREA = "deployments"
    CSS_PATH = "deployments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply", "Apply"),
        Binding("c", "cancel_run", "Cancel run"),
        Binding("o", "scope", "Operator"),
        Binding("l", "open_log", "Log"),
        Binding("v", "show_tab('plan')", "Plan", show=False),
        Binding("r", "show_tab('run')", "Run", show=False),
        Binding("h", "show_tab('history')", "History", show=False),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False),
    ]
    EDIT_ACTIONS = frozenset({"apply", "cancel_run"})
    TABS = ("plan", "run", "history")

    def __init__(self) -> None:
        super().__init__()
        self.scope: str | None = None
        """The operator whose plan is shown; None: the whole provider."""
        self.view: PlanView | None = None
        self._observation: LiveObservation | None = None
        """Proxmox observed before an apply (the question follows while it is active)."""
        self._plans = 0
        """Bumped for every plan worked out: an observation made for an older one is moot."""
        self._history: dict[str, HistoryRow] = {}

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static(id="deploy-status", markup=False)
        with FocusTabs(id="deploy-tabs", initial="tab-plan"):
            with TabPane("Plan (v)", id="tab-plan"), VerticalScroll(id="plan-body"):
                yield Static(WORKING, id="plan-summary", markup=False)
                yield Static(id="plan-groups")
            with TabPane("Run (r)", id="tab-run"):
                yield ProgressTable(self.fedi.clock, id="progress")
            with TabPane("History (h)", id="tab-history"):
                yield FilterTable(("deployment", "started", "by", "outcome", "plan"), id="history")
                yield Static(id="history-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.fedi, "run_tick", lambda _t: self._show_run(), init=False)
        self.watch(self.fedi, "history", lambda _h: self._show_history(), init=False)
        self.watch(self.fedi, "recorded", lambda _r: self.show_state(self.fedi.state), init=False)
        self.set_interval(1.0, self._tick)
        self._show_run()
        self._show_history()
        self.action_show_tab("run" if self.fedi.deployments.running else "plan")

    # --- what is shown --------------------------------------------------------------

    def show_state(self, loaded: LoadedState) -> None:
        """Work out the plan of this state (the App's Workspace) behind the open view."""
        self._status()
        self._plans += 1
        self.view = None  # Apply waits for this plan: never the one shown before
        self.query_one("#plan-summary", Static).update(WORKING)
        scope = self.scope

        def work() -> PlanView:
            return plan_view(self.fedi.workspace(loaded), operator=scope)

        def show(view: PlanView) -> None:
            if self.is_attached and self.fedi.state is loaded and self.scope == scope:
                self._show_plan(view)

        self.fedi.start_job(work, name="work out the plan", group="deploy-plan", done=show)

    def _status(self) -> None:
        scope = f"operator {self.scope}" if self.scope else "the whole provider"
        run = self.fedi.deployments
        state = ""
        if run.running:
            state = " · a deployment is running (r)"
        elif self._observing:
            state = " · observing Proxmox before applying (c cancels)"
        self.query_one("#deploy-status", Static).update(f"Plan for {scope}{state}")

    def _show_plan(self, view: PlanView) -> None:
        self.view = view
        self.query_one("#plan-summary", Static).update(
            Text("\n".join((view.summary, *view.notes)), style="bold")
        )
        parts: list[RenderableType] = []
        for group in view.groups:
            parts.extend(self._group(group))
        if view.can_apply and not self.fedi.read_only:
            parts.append(Text("a applies this plan (asks first)", style="dim"))
        self.query_one("#plan-groups", Static).update(Group(*parts))

    def _group(self, group: PlanGroup) -> list[RenderableType]:
        colours = self.app.theme_variables
        out: list[RenderableType] = [Text(""), Text(group.title, style="bold underline")]
        for step in group.steps:
            line = Text()
            line.append(step.mark, style=f"bold {colours.get(MARK_STYLES[step.mark], '')}")
            line.append(f" {step.text}")
            if step.after:
                line.append(f"  (after {', '.join(step.after)})", style="dim")
            out.append(line)
        if group.other_files:
            out.append(Text(f"also changes: {', '.join(group.other_files)}", style="dim"))
        if group.diff:
            theme = "ansi_light" if not self.app.current_theme.dark else "ansi_dark"
            out.append(Syntax(group.diff.rstrip("\n"), "diff", theme=theme, word_wrap=False))
        return out

    def _show_run(self) -> None:
        if not self.is_attached:
            return
        run = self.fedi.deployments
        self.query_one(ProgressTable).show(run.progress, cancelling=run.cancelling)
        self._status()

    def _tick(self) -> None:
        if self.fedi.deployments.running:
            self._show_run()  # the elapsed times

    def _show_history(self) -> None:
        index = self.fedi.history
        rows = history_rows(index) if index is not None else []
        self._history = {r.id: r for r in rows}
        table = self.query_one("#history", FilterTable)
        table.set_rows([(r.id, (r.id, r.started, r.user, r.outcome, r.summary)) for r in rows])
        self._detail(table.current_key)

    def _detail(self, key: str | None) -> None:
        detail = self.query_one("#history-detail", Static)
        row = self._history.get(key or "")
        if row is None:
            detail.update("No deployments recorded yet." if not self._history else "")
            return
        width = max((len(m.name) for m in row.machines), default=7)
        lines = [f"{row.id} ({row.kind}) by {row.user}, {row.started} UTC: {row.outcome}"]
        lines += [
            f"  {m.name.ljust(width)}  {m.state:<12} config {m.config_hash:<12}  {m.message}"
            for m in row.machines
        ]
        lines.append("Enter opens its log")
        detail.update("\n".join(lines))

    @on(FilterTable.Highlighted, "#history")
    def _history_highlighted(self, event: FilterTable.Highlighted) -> None:
        self._detail(event.key)

    @on(FilterTable.Chosen, "#history")
    def _history_chosen(self, event: FilterTable.Chosen) -> None:
        from fedi_tui.core.deploy.history import log_path

        self.app.push_screen(LogsScreen(log_path(self.fedi.workspace().state_dir, event.key)))

    # --- actions --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        run = self.fedi.deployments
        if action == "cancel_run":
            return (run.running and not run.cancelling) or self._observing
        if action == "apply":
            return self.fedi.ports is not None and not run.running
        return True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"
        self._focus_tab(tab)

    @on(TabbedContent.TabActivated, "#deploy-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._focus_tab(str(event.pane.id).removeprefix("tab-"))

    def _focus_tab(self, tab: str) -> None:
        """Keys go to what the tab shows: the plan scrolls, the tables move their cursor.
        Nothing moves when the focus is already inside that tab."""
        focused = self.focused
        if focused is not None and self.query_one(f"#tab-{tab}") in focused.ancestors:
            return
        if tab == "history":
            self.query_one("#history", FilterTable).focus_table()
        elif tab == "run":
            self.query_one(ProgressTable).table.focus()
        else:
            self.query_one("#plan-body").focus()

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        now = self.TABS.index(str(tabs.active).removeprefix("tab-"))
        self.action_show_tab(self.TABS[(now + step) % len(self.TABS)])

    def action_scope(self) -> None:
        """The plan of the next operator (then the whole provider again)."""
        choices: list[str | None] = [None, *self.fedi.state.spec.operators]
        self.scope = choices[(choices.index(self.scope) + 1) % len(choices)]
        self.action_show_tab("plan")
        self.show_state(self.fedi.state)

    def action_apply(self) -> None:
        """Ask, then apply the plan shown; a plan that places VMs is first made again from
        what Proxmox reports now (as `fedi-tui apply` does), and that plan is asked about."""
        from fedi_tui.core.deploy.livefacts import placing_runtimes

        view = self.view
        if self._observing:
            self.notify("Observing Proxmox first; the question follows (c cancels).")
            return
        if view is None or view.planned is None or not view.can_apply:
            self.notify("Nothing to apply: " + (view.summary if view else WORKING))
            return
        workspace = self.fedi.workspace()
        placing = placing_runtimes(view.planned, workspace.spec)
        if placing and self.fedi.ports is not None:
            self._observe_then_ask(workspace, placing)
        else:
            self._ask(view, workspace)

    def _ask(self, view: PlanView, workspace: Workspace) -> None:
        assert view.planned is not None
        planned = view.planned
        machines = [g.name for g in view.groups if not g.name.startswith("storage:")]
        scope = f"operator {self.scope}" if self.scope else "the whole provider"
        body = (
            f"{view.summary}\nfor {scope}: {', '.join(machines) or 'storage only'}.\n\n"
            "Machines are provisioned, configured, switched and health-checked; a machine "
            "whose switch or health check fails is rolled back."
        )
        modal = ConfirmModal("Apply this plan?", body, yes="Apply", no="Cancel")

        def answer(yes: bool | None) -> None:
            if yes:
                self.post_message(messages.ApplyPlan(workspace, planned))
                self.action_show_tab("run")

        self.app.push_screen(modal, answer)

    def _observe_then_ask(self, workspace: Workspace, runtimes: list[str]) -> None:
        """Observe the runtimes first (`tui.liveobserve`); c cancels the observation."""
        from fedi_tui.tui.liveobserve import LiveObservation, ObserveHooks

        make_ports = self.fedi.ports
        assert make_ports is not None
        plans, scope = self._plans, self.scope
        summary = self.query_one("#plan-summary", Static)

        def say(text: str | Text) -> None:
            if self.is_attached:
                summary.update(text)

        hooks = ObserveHooks(
            say=say,
            show_plan=self._show_plan,
            ask=self._ask,
            ended=self._status,
            still_wanted=lambda: self.is_attached and self._plans == plans,
            may_ask=lambda: self.is_current,
        )
        self._observation = LiveObservation(
            self.fedi, make_ports, workspace, runtimes, operator=scope, shown=self.view, hooks=hooks
        )
        self.action_show_tab("plan")
        self._observation.start()
        self._status()
        self.refresh_bindings()

    @property
    def _observing(self) -> bool:
        return self._observation is not None and self._observation.active

    def action_cancel_run(self) -> None:
        if self._observation is not None and self._observation.active:
            self._observation.cancel()  # nothing has happened yet: no question
            self.refresh_bindings()
            return
        body = (
            "Running steps are stopped (their remote commands terminated), every machine "
            "ends cleanly and the recorded state says where each stopped — as Ctrl+C does "
            "in `fedi-tui apply`. The next Apply plans what is left."
        )
        modal = ConfirmModal("Cancel the deployment?", body, yes="Cancel run", no="Keep running")

        def answer(yes: bool | None) -> None:
            if yes:
                self.post_message(messages.CancelDeployment())

        self.app.push_screen(modal, answer)

    def action_open_log(self) -> None:
        """The log of the run shown in Run (or the one chosen in History)."""
        tabs = self.query_one(TabbedContent)
        if tabs.active == "tab-history":
            key = self.query_one("#history", FilterTable).current_key
            if key is not None:
                self._history_chosen(
                    FilterTable.Chosen(self.query_one("#history", FilterTable), key)
                )
            return
        run = self.fedi.deployments
        if run.log_path is None:
            self.notify("No deployment has run in this session; History lists past ones.")
            return
        machine = (
            self.query_one(ProgressTable).current_machine if tabs.active == "tab-run" else None
        )
        self.app.push_screen(LogsScreen(run.log_path, machine=machine))
