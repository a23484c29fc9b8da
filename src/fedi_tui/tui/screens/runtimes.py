"""Runtimes & storage: list, add, edit, remove; test a connection and pin what it showed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.spec import NixosRuntimeSpec
from fedi_tui.core.state.tomledit import DELETE, Edit
from fedi_tui.tui import messages
from fedi_tui.tui.probing import ProbeView
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.screens.entry import KINDS, EntryModal
from fedi_tui.tui.screens.modals import ChoiceModal, ConfirmModal
from fedi_tui.tui.screens.probereport import describe, pin_question
from fedi_tui.tui.widgets.filtertable import FilterTable


class RuntimesScreen(AreaScreen):
    AREA = "runtimes"
    CSS_PATH = "runtimes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "test", "Test connection"),
        Binding("p", "pin", "Pin"),
        Binding("e", "edit", "Edit"),
        Binding("a", "add", "Add"),
        Binding("x,delete", "remove", "Remove"),
    ]
    EDIT_ACTIONS = frozenset({"pin", "edit", "add", "remove"})

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield FilterTable(("entry", "kind", "endpoint", "TLS/SSH trust"), id="entries")
        yield Static(id="probe-title", classes="section-title")
        with VerticalScroll(id="probe-panel"):
            yield Static(id="probe-result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.fedi, "probes", self._show_probes)
        self.query_one(FilterTable).focus_table()

    @property
    def current(self) -> tuple[str, str] | None:
        key = self.query_one(FilterTable).current_key
        if key is None:
            return None
        section, _, name = key.partition("/")
        return section, name

    def select_entry(self, key: str) -> None:
        table = self.query_one(FilterTable)
        for section in ("runtimes", "storage"):
            table.select(f"{section}/{key}")

    def show_state(self, loaded: LoadedState) -> None:
        spec = loaded.spec
        rows = []
        for name, rt in spec.runtimes.items():
            if isinstance(rt, NixosRuntimeSpec):
                trust = "host key pinned" if rt.host_key else "known_hosts"
                rows.append(
                    (f"runtimes/{name}", (name, "nixos", f"ssh {rt.host}:{rt.port}", trust))
                )
            else:
                trust = (
                    "fingerprint" if rt.fingerprint else "CA file" if rt.ca_file else "system CAs"
                )
                rows.append((f"runtimes/{name}", (name, "proxmox", rt.api, trust)))
        for name, st in spec.storage.items():
            trust = "fingerprint" if st.fingerprint else "CA file" if st.ca_file else "system CAs"
            rows.append((f"storage/{name}", (name, "garage", st.admin_endpoint, trust)))
        self.query_one(FilterTable).set_rows(rows)
        self._show_probes(self.fedi.probes)

    @on(FilterTable.Highlighted)
    def _highlighted(self) -> None:
        self._show_probes(self.fedi.probes)

    @on(FilterTable.Chosen)
    def _chosen(self) -> None:
        self.action_edit()

    def _show_probes(self, probes: Mapping[str, ProbeView]) -> None:
        current = self.current
        title = self.query_one("#probe-title", Static)
        body = self.query_one("#probe-result", Static)
        panel = self.query_one("#probe-panel")
        if current is None:
            title.update("Connection test")
            body.update("Nothing here yet: press a to add a runtime or storage.")
            panel.loading = False
            return
        section, name = current
        title.update(f"Connection test — {section}.{name}")
        view = probes.get(f"{section}/{name}")
        panel.loading = bool(view and view.running)
        if view is None or view.report is None:
            body.update("Not tested yet: press t to test the connection.")
            return
        body.update(describe(view.report))

    def action_test(self) -> None:
        if self.current is not None:
            self.post_message(messages.TestConnection(*self.current))

    def action_pin(self) -> None:
        current = self.current
        view = self.fedi.probes.get("/".join(current)) if current else None
        report = view.report if view is not None else None
        if report is None or report.result.error:
            self.notify("Test the connection first (t); then p pins what it showed.")
            return
        question = pin_question(report)
        if isinstance(question, str):
            self.notify(question)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.post_message(messages.PinIdentity(report))

        self.app.push_screen(question, answer)

    def action_edit(self) -> None:
        if self.current is None:
            return
        section, name = self.current
        entry = (self.fedi.state.data.get(section) or {}).get(name) or {}
        kind = str(entry.get("kind", ""))
        if kind in KINDS:
            self._open(EntryModal(kind, name, self.fedi.state.data), f"{section}.{name}")

    def action_add(self) -> None:
        choices = [(kind, label) for kind, (_, _, label) in KINDS.items()]

        def chosen(kind: str | None) -> None:
            if kind:
                self._open(EntryModal(kind, None, self.fedi.state.data), f"new {KINDS[kind][2]}")

        self.app.push_screen(ChoiceModal("Add what?", choices), chosen)

    def _open(self, modal: EntryModal, what: str) -> None:
        def done(edits: list[Edit] | None) -> None:
            if edits:
                self.post_message(messages.SaveEdits(edits, what))

        self.app.push_screen(modal, done)

    def action_remove(self) -> None:
        if self.current is None:
            return
        section, name = self.current
        field = "runtime" if section == "runtimes" else "storage"
        users = [
            op_id
            for op_id, op in self.fedi.state.spec.operators.items()
            if getattr(op, field) == name
        ]
        body = f"Remove {section}.{name} from the state file?"
        if users:
            body += (
                f"\nOperators using it: {', '.join(users)} — move them first, or saving will fail."
            )

        def answer(yes: bool | None) -> None:
            if yes:
                edits = [Edit((section, name), DELETE)]
                self.post_message(messages.SaveEdits(edits, f"removal of {section}.{name}"))

        self.app.push_screen(ConfirmModal("Remove?", body, yes="Remove"), answer)
