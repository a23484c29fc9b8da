"""Dashboard: the provider at a glance — capacity per runtime, storage, operators and apps."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from fedi_tui.core.views.overviewmodel import DashboardView, Resources
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.storagehealth import REFRESH_SECONDS, ask_storage_health
from fedi_tui.tui.widgets.capacity import capacity_bar
from fedi_tui.tui.widgets.filtertable import Cell, FilterTable
from fedi_tui.tui.widgets.navbar import NavBar
from fedi_tui.tui.widgets.plansummary import PlanSummary

if TYPE_CHECKING:
    from fedi_tui.core.state.file import LoadedState
    from fedi_tui.core.views.storagestatus import StorageReport


class DashboardScreen(AreaScreen):
    """Read-only overview; Enter on a row opens it in its area."""

    AREA = "dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "setup", "Add operator"),
        Binding("p", "plan", "Plan"),
    ]
    EDIT_ACTIONS = frozenset({"setup"})
    _storage_health: Mapping[str, StorageReport] = MappingProxyType({})
    """The last answer of each storage (the health column), by name."""
    _view: DashboardView
    """The view drawn last."""

    def compose(self) -> ComposeResult:
        if self.fedi.loaded:
            yield self.nav_bar()
        else:  # drawn from the first-view cache while the state file is read behind it
            view = self.fedi.first_view
            assert view is not None
            yield NavBar(self.AREA, view.file_name, self.fedi.read_only, sandbox=view.sandbox)
        yield Static(id="provider")
        yield PlanSummary()
        with VerticalScroll(id="dashboard-body"):
            yield Static("Runtimes — capacity placed / declared", classes="section-title")
            yield FilterTable(("runtime", "kind", "CPU", "memory", "disk", "ops"), id="runtimes")
            yield Static("Storage", classes="section-title")
            yield FilterTable(
                ("storage", "S3 endpoint", "TLS trust", "quota", "health"), id="storage"
            )
            yield Static("Operators", classes="section-title")
            yield FilterTable(("operator", "domain", "apps", "deployed"), id="operators")
        yield Footer(compact=True)

    def action_plan(self) -> None:
        self.fedi.action_plan()

    def on_mount(self) -> None:
        if self.fedi.loaded:
            super().on_mount()
        else:
            first = self.fedi.first_view
            assert first is not None
            self._view = first
            self.draw(first)
            self.watch(self.fedi, "state", self.show_state, init=False)
        self.watch(self.app, "theme", lambda _t: self._redraw(), init=False)
        self.watch(self.app, "recorded", lambda _r: self._redraw(), init=False)
        self.watch(self.app, "history", lambda _h: self._redraw(), init=False)
        self.query_one("#operators", FilterTable).focus_table()
        self.watch(self.app, "state", lambda _s: self._ask_storage(), init=False)
        self._ask_storage()  # a job: the first frame does not wait for it
        self.set_interval(REFRESH_SECONDS, self._ask_storage)

    def _ask_storage(self) -> None:
        ask_storage_health(self.fedi, self._show_storage_health)

    def _show_storage_health(self, reports: Mapping[str, StorageReport]) -> None:
        self._storage_health = reports
        self._redraw()

    def _redraw(self) -> None:
        if self.fedi.loaded:
            self.show_state(self.fedi.state)
        else:
            self.draw(self._view)

    def show_state(self, loaded: LoadedState) -> None:
        from fedi_tui.core.views.overview import dashboard_view

        view = dashboard_view(loaded, self.fedi.recorded, self.fedi.history)
        self._view = view
        self.draw(view)
        self.fedi.remember_first_view(loaded, view)

    def draw(self, shown: DashboardView) -> None:
        """Draw this view (of the loaded state, or from the first-view cache)."""
        self.query_one("#provider", Static).update(shown.provider)
        view = shown.overview
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        for r in view.runtimes:
            kind = r.kind if r.kind == "nixos" else f"pve×{r.nodes}"
            rows.append((r.name, (r.name, kind, *self._bars(r.placed, r.total), str(r.operators))))
            for n in r.node_usage:
                label = f" └ {n.name}"
                rows.append(
                    (
                        f"{r.name}/{n.name}",
                        (
                            label,
                            f"{n.machines} VM{'s' if n.machines != 1 else ''}",
                            *self._bars(n.placed, n.total),
                            "",
                        ),
                    )
                )
        self.query_one("#runtimes", FilterTable).set_rows(rows)
        self.query_one("#storage", FilterTable).set_rows(
            [
                (
                    s.name,
                    (s.name, s.endpoint, s.trust, f"{s.quota_gib:,} GiB", self._health(s.name)),
                )
                for s in view.storage
            ]
        )
        self.query_one("#operators", FilterTable).set_rows(
            [
                (
                    o.id,
                    (
                        o.id,
                        o.domain,
                        ", ".join(f"{app} ({size})" for app, size in o.apps) or "—",
                        o.last_deployment,
                    ),
                )
                for o in view.operators
            ]
        )

    def _health(self, storage: str) -> Cell:
        report = self._storage_health.get(storage)
        if report is None:
            return "asking…" if self.fedi.ports is not None else "unknown"
        return Text(report.summary, style="" if report.ok else "bold red")

    def _bars(self, placed: Resources, total: Resources | None) -> tuple[Cell, Cell, Cell]:
        colors = self.app.theme_variables
        return (
            capacity_bar(placed.cores, total.cores if total else None, "", colors),
            capacity_bar(placed.memory_gib, total.memory_gib if total else None, "G", colors),
            capacity_bar(placed.disk_gib, total.disk_gib if total else None, "G", colors),
        )

    @on(FilterTable.Chosen)
    async def _open(self, event: FilterTable.Chosen) -> None:
        area = "operators" if event.table.id == "operators" else "runtimes"
        if not self.fedi.loaded:  # drawn from the cache: no row opens before the load
            self.fedi.notify(f"Still reading {self.fedi.path.name}…", title="Loading")
            return
        await self.app.switch_mode(area)
        select = getattr(self.app.screen, "select_entry", None)
        if select is not None:
            select(event.key.split("/", 1)[0])  # a node row opens its runtime

    async def action_setup(self) -> None:
        await self.fedi.action_area("setup")  # not before the state file is loaded
