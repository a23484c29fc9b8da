"""Add or edit one runtime or storage entry in a form generated from its model."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from fedi_tui.core.state.spec import GarageStorageSpec, NixosRuntimeSpec, ProxmoxRuntimeSpec
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.views.forms import (
    apply_form,
    assign_problems,
    form_fields,
    form_values,
    section_edits,
    validate_entry,
)
from fedi_tui.tui.widgets.optionform import OptionForm

KINDS: dict[str, tuple[str, type[BaseModel], str]] = {
    "proxmox": ("runtimes", ProxmoxRuntimeSpec, "Proxmox VE cluster"),
    "nixos": ("runtimes", NixosRuntimeSpec, "NixOS host"),
    "garage": ("storage", GarageStorageSpec, "Garage storage"),
}
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


class EntryModal(ModalScreen[list[Edit] | None]):
    """Dismisses with the edits to save, or None when cancelled."""

    CSS_PATH = "entry.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, kind: str, name: str | None, data: dict[str, Any]) -> None:
        super().__init__()
        self.kind = kind
        self.section, model, self.label = KINDS[kind]
        self.entry = name
        self.data = data
        self.old: dict[str, Any] | None = (data.get(self.section) or {}).get(name) if name else None
        self.fields = form_fields(model)
        self.ok = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            what = f"{self.section}.{self.entry}" if self.entry else f"new {self.label}"
            yield Static(f"{what} — ctrl+s saves, Esc cancels", classes="dialog-title")
            if self.entry is None:
                yield Label("Name", classes="field-label")
                yield Input(placeholder="e.g. pve-b", id="entry-name", compact=True)
                yield Static("", id="name-error")
            yield OptionForm(self.fields, id="entry-form")
            yield Static("", id="entry-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionForm).load(form_values(self.fields, self.old or {}))
        self._check()
        first = (
            self.query("#entry-name").first() if self.entry is None else self.query_one(OptionForm)
        )
        first.focus()

    def _entry_name(self) -> str:
        return self.entry or self.query_one("#entry-name", Input).value.strip()

    def _check(self) -> list[Edit] | None:
        form = self.query_one(OptionForm)
        new, errors = apply_form(self.old or {}, self.fields, form.values())
        new["kind"] = self.kind
        name = self._entry_name()
        name_problem = None
        if self.entry is None:
            if not _NAME.match(name):
                name_problem = "lower-case letters, digits and '-', starting with a letter"
            elif name in (self.data.get(self.section) or {}):
                name_problem = f"{self.section}.{name} exists already; choose another name"
            self.query_one("#name-error", Static).update(
                f"✗ {name_problem}" if name_problem else ""
            )
        problems = validate_entry(self.data, self.section, name if not name_problem else "x", new)
        by_field, general = assign_problems(self.fields, problems)
        by_field.update(errors)
        form.show_problems(by_field, general)
        count = len(by_field) + len(general) + (1 if name_problem else 0)
        status = self.query_one("#entry-status", Static)
        status.update(f"✗ {count} problem(s): fix the marked fields" if count else "ready to save")
        status.set_class(bool(count), "-problems")
        self.ok = not count
        return section_edits((self.section, name), self.old, new) if not count else None

    @on(OptionForm.Changed)
    @on(Input.Changed, "#entry-name")
    def _changed(self) -> None:
        self._check()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        edits = self._check()
        if edits is None:
            self.notify("Fix the fields marked ✗ first.", severity="warning")
        else:
            self.dismiss(edits)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
