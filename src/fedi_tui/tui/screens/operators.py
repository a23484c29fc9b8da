"""Operators & applications: pick an operator, switch its apps on or off, edit their options."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, TabbedContent, TabPane

from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.tomledit import DELETE, Edit
from fedi_tui.core.views.forms import (
    apply_form,
    assign_problems,
    form_fields,
    form_values,
    operator_fields,
    section_edits,
    validate_entry,
)
from fedi_tui.tui import messages
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.widgets.filtertable import FilterTable
from fedi_tui.tui.widgets.optionform import OptionForm, set_choices

BASE = "operator"


class OperatorsScreen(AreaScreen):
    AREA = "operators"
    CSS_PATH = "operators.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "revert", "Revert"),
        Binding("a", "add", "Add operator"),
        Binding("x,delete", "remove", "Remove"),
        Binding("m", "migrate", "Migrate…", show=False),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False),
    ]
    EDIT_ACTIONS = frozenset({"save", "revert", "add", "remove", "migrate"})

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.apps = installed_apps()
        self.app_fields = {name: form_fields(m.options) for name, m in self.apps.items()}
        self.edits: list[Edit] = []
        self.problems = 0

    def compose(self) -> ComposeResult:
        read_only = self.fedi.read_only
        yield self.nav_bar()
        with Horizontal(id="ops-body"):
            with Vertical(id="ops-list"):
                yield FilterTable(("operator", "apps"), id="operator-list")
            with Vertical(id="ops-detail"):
                yield Static(id="op-title")
                with TabbedContent(id="op-tabs"):
                    with TabPane("Operator", id=f"tab-{BASE}"):
                        fields = operator_fields(self.fedi.state.data)
                        yield OptionForm(fields, id=f"form-{BASE}", disabled=read_only)
                    for name, module in self.apps.items():
                        with TabPane(module.title, id=f"tab-{name}"):
                            yield Static(module.summary, classes="hint")
                            yield OptionForm(
                                self.app_fields[name], id=f"form-{name}", disabled=read_only
                            )
                yield Static(id="op-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(FilterTable).focus_table()

    def _form(self, name: str) -> OptionForm:
        return self.query_one(f"#form-{name}", OptionForm)

    def show_state(self, loaded: LoadedState) -> None:
        operators = loaded.data.get("operators") or {}
        rows = []
        for op_id, op in loaded.spec.operators.items():
            on = [name for name, options in op.apps.items() if options.enable]
            rows.append((op_id, (op_id, " ".join(a[:4] for a in on) or "—")))
        self.query_one(FilterTable).set_rows(rows)
        base = self._form(BASE)
        for section, key in (("runtimes", "runtime"), ("storage", "storage")):
            set_choices(base, key, tuple(loaded.data.get(section) or {}))
        if self.current not in operators:
            self.current = next(iter(operators), None)
        self._load(self.current)

    def select_entry(self, key: str) -> None:
        self.query_one(FilterTable).select(key)

    def _load(self, op_id: str | None) -> None:
        self.current = op_id
        data: dict[str, Any] = (self.fedi.state.data.get("operators") or {}).get(op_id or "", {})
        title = self.query_one("#op-title", Static)
        title.update(
            f"[b]{data.get('name', '')}[/b]  ({op_id})"
            if op_id
            else "No operators yet: press a to add one."
        )
        base = self._form(BASE)
        base.load(form_values(base.fields, data))
        for name, fields in self.app_fields.items():
            self._form(name).load(form_values(fields, (data.get("apps") or {}).get(name, {})))
        self._check()

    def _draft(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]]]:
        """(old operator table, new one, parse errors per form)."""
        old: dict[str, Any] = (self.fedi.state.data.get("operators") or {}).get(self.current, {})
        errors: dict[str, dict[str, str]] = {}
        base = self._form(BASE)
        new, errors[BASE] = apply_form(old, base.fields, base.values())
        old_apps = old.get("apps") or {}
        apps = dict(new.get("apps") or {})
        for name, fields in self.app_fields.items():
            table, errors[name] = apply_form(
                old_apps.get(name, {}), fields, self._form(name).values()
            )
            if name in old_apps or table:
                apps[name] = table
        if apps or "apps" in old:
            new["apps"] = apps
        return old, new, errors

    def _check(self) -> None:
        if self.current is None:
            self.edits, self.problems = [], 0
            self.query_one("#op-status", Static).update("")
            return
        old, new, errors = self._draft()
        self.edits = section_edits(("operators", self.current), old, new)
        found = validate_entry(self.fedi.state.data, "operators", self.current, new)
        per_form: dict[str, list[tuple[tuple[str | int, ...], str]]] = {BASE: []}
        for path, message in found:
            if len(path) >= 2 and path[0] == "apps" and path[1] in self.app_fields:
                per_form.setdefault(str(path[1]), []).append((path[2:], message))
            else:
                per_form[BASE].append((path, message))
        self.problems = 0
        for name in (BASE, *self.app_fields):
            form = self._form(name)
            by_field, general = assign_problems(form.fields, per_form.get(name, []))
            by_field.update(errors.get(name, {}))
            form.show_problems(by_field, general)
            self.problems += len(by_field) + len(general)
        self.post_message(messages.EditsPending("operators", bool(self.edits)))
        self._status()

    def _status(self) -> None:
        n = len(self.edits)
        shown = sum(self._form(name).shown_problems for name in (BASE, *self.app_fields))
        if self.fedi.read_only:
            text = "read-only: nothing can be changed here"
        elif shown:
            text = f"[b]✗ {shown} problem(s)[/b] — fix the marked fields to save"
        elif n:
            text = f"[b]{n} unsaved change(s)[/b] — ctrl+s saves · ctrl+r reverts"
        else:
            text = "no unsaved changes"
        status = self.query_one("#op-status", Static)
        status.update(text)
        status.set_class(bool(shown), "-problems")

    @on(OptionForm.Changed)
    def _changed(self) -> None:
        self._check()

    @on(OptionForm.Left)
    def _field_left(self) -> None:
        self._status()

    @on(FilterTable.Highlighted, "#operator-list")
    def _highlighted(self, event: FilterTable.Highlighted) -> None:
        if event.key is None or event.key == self.current:
            return
        if not self.edits:
            self._load(event.key)
            return
        previous, wanted = self.current, event.key

        def answer(discard: bool | None) -> None:
            if discard:
                self._load(wanted)
            elif previous is not None:
                self.select_entry(previous)

        body = f"Operator {previous} has {len(self.edits)} unsaved change(s). Discard them?"
        self.app.push_screen(
            ConfirmModal("Discard changes?", body, yes="Discard", no="Stay"), answer
        )

    @on(FilterTable.Chosen, "#operator-list")
    def _chosen(self) -> None:
        self.query_one(TabbedContent).focus()

    def action_save(self) -> None:
        if self.problems:
            for name in (BASE, *self.app_fields):
                self._form(name).reveal()
            self._status()
            self.notify("Fix the fields marked ✗ first; nothing was saved.", severity="warning")
            return
        if not self.edits:
            self.notify("Nothing to save.")
            return
        self.post_message(messages.SaveEdits(list(self.edits), f"operator {self.current}"))

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = ["tab-" + BASE, *(f"tab-{name}" for name in self.apps)]
        here = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(here + step) % len(ids)]

    def action_revert(self) -> None:
        self._load(self.current)

    def action_add(self) -> None:
        self.app.switch_mode("setup")

    def action_migrate(self) -> None:
        """Move the operator to another runtime and storage (its own screen)."""
        from fedi_tui.tui.screens.migrate import MigrateScreen

        if self.current is not None:
            self.app.push_screen(MigrateScreen(self.current))

    def action_remove(self) -> None:
        op_id = self.current
        if op_id is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                edits = [Edit(("operators", op_id), DELETE)]
                self.post_message(messages.SaveEdits(edits, f"removal of operator {op_id}"))

        body = (
            f"Remove operator {op_id} and all its applications from the state file? "
            "Their machines stay until the next deploy removes them."
        )
        self.app.push_screen(ConfirmModal("Remove operator?", body, yes="Remove"), answer)
