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
_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")
NAME_RULE = (
    "a name is 2 to 32 characters: lower-case letters, digits and '-'; it starts with a "
    "letter and does not end with '-' (e.g. pve-b)"
)
_STAND_IN = "name-being-typed"
"""Validates the entry's fields while its own name is not valid yet."""


class EntryModal(ModalScreen[list[Edit] | None]):
    """Dismisses with the edits to save, or None when cancelled."""

    CSS_PATH = "entry.tcss"
    AUTO_FOCUS = ""  # on_mount focuses the first field, without scrolling past its label
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
        self.name_left = False
        """The name field was left (its problem shows from then on)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            what = f"{self.section}.{self.entry}" if self.entry else f"new {self.label}"
            yield Static(f"{what} — ctrl+s saves, Esc cancels", classes="dialog-title")
            if self.entry is None:
                yield Label("Name", classes="field-label")
                yield Input(placeholder="e.g. pve-b", id="entry-name", compact=True)
                yield Static("", id="name-error", markup=False)
            yield OptionForm(self.fields, id="entry-form")
            yield Static("", id="entry-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        form = self.query_one(OptionForm)
        form.load(form_values(self.fields, self.old or {}))
        self._check()
        if self.entry is None:
            self.query_one("#entry-name", Input).focus()
        elif self.fields:
            form.focus_field(self.fields[0].key)

    def _entry_name(self) -> str:
        return self.entry or self.query_one("#entry-name", Input).value.strip()

    def _check(self, *, reveal: bool = False) -> list[Edit] | None:
        """Validate the form; shows the problems of fields left so far (all with `reveal`)."""
        form = self.query_one(OptionForm)
        new, errors = apply_form(self.old or {}, self.fields, form.values())
        new["kind"] = self.kind
        name = self._entry_name()
        name_problem = None
        if self.entry is None:
            if not _NAME.fullmatch(name):
                name_problem = f"{NAME_RULE}" if name else f"required: {NAME_RULE}"
            elif name in (self.data.get(self.section) or {}):
                name_problem = f"{self.section}.{name} exists already; choose another name"
            self.name_left = self.name_left or reveal
            shown = name_problem if self.name_left else None
            self.query_one("#name-error", Static).update(f"✗ {shown}" if shown else "")
        checked = name if name_problem is None else _STAND_IN
        problems = validate_entry(self.data, self.section, checked, new)
        by_field, general = assign_problems(self.fields, problems)
        by_field.update(errors)
        form.show_problems(by_field, general)
        if reveal:
            form.reveal()
        count = len(by_field) + len(general) + (1 if name_problem else 0)
        shown_count = form.shown_problems + (1 if name_problem and self.name_left else 0)
        status = self.query_one("#entry-status", Static)
        if shown_count:
            status.update(f"✗ {shown_count} problem(s): fix the marked fields")
        elif count:
            status.update("fill in the fields; ctrl+s saves")
        else:
            status.update("ready to save (ctrl+s)")
        status.set_class(bool(shown_count), "-problems")
        self.ok = not count
        return section_edits((self.section, name), self.old, new) if not count else None

    @on(OptionForm.Changed)
    @on(Input.Changed, "#entry-name")
    def _changed(self) -> None:
        self._check()

    @on(Input.Blurred, "#entry-name")
    def _name_left(self) -> None:
        if not self.name_left:
            self.name_left = True
            self._check()

    @on(OptionForm.Left)
    def _field_left(self) -> None:
        self._check()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        edits = self._check(reveal=True)
        if edits is None:
            self.notify("Fix the fields marked ✗ first.", severity="warning")
        else:
            self.dismiss(edits)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
