"""A form generated from `core.forms.FormField`s: one input per field, help and problems below."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static, Switch

from fedi_tui.core.views.forms import MISSING, FormField, FormValue

InputWidget = Input | Switch | Select[str] | SelectionList[str]


def field_id(field: FormField) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", field.key)


def _placeholder(field: FormField) -> str:
    if field.kind == "toml":
        return "TOML value, e.g. " + ('{ env = "NAME" }' if "secret" in field.help else '["…"]')
    if field.optional:
        return "(optional)"
    return "" if field.default is MISSING else f"default: {field.default}"


class OptionForm(VerticalScroll):
    """Inputs for a fixed set of fields; `load()` fills them, `values()` reads them."""

    DEFAULT_CSS = """
    OptionForm { height: 1fr; padding: 0 1; }
    OptionForm > .field { height: auto; margin: 0 0 1 0; }
    OptionForm .field-label { color: $text; text-style: bold; }
    OptionForm .field-help { color: $text-muted; }
    OptionForm .field-error { color: $text-error; display: none; }
    OptionForm .field.-invalid .field-error { display: block; }
    OptionForm .field.-invalid Input { background-tint: $error 25%; }
    OptionForm .form-general { color: $text-error; display: none; }
    OptionForm .form-general.-shown { display: block; }
    OptionForm Input, OptionForm Select { width: 1fr; background: $panel; }
    OptionForm Input:focus, OptionForm Select:focus-within { background: $primary 25%; }
    OptionForm Switch { border: none; height: 1; padding: 0 1; }
    OptionForm Switch:focus { border: none; background: $primary 25%; }
    OptionForm SelectionList { height: auto; max-height: 10; }
    """

    class Changed(Message):
        """A value in the form was changed by the person (not by `load`)."""

        def __init__(self, form: OptionForm) -> None:
            super().__init__()
            self.form = form

        @property
        def control(self) -> OptionForm:
            return self.form

    def __init__(
        self, fields: Iterable[FormField], *, id: str | None = None, disabled: bool = False
    ) -> None:
        super().__init__(id=id, disabled=disabled)
        self.fields = tuple(fields)

    def compose(self) -> ComposeResult:
        yield Static("", classes="form-general")
        for field in self.fields:
            with Vertical(classes="field", id=f"{field_id(field)}-box"):
                yield Label(field.label, classes="field-label", markup=False)
                yield self._input(field)
                if field.help:
                    yield Static(field.help, classes="field-help", markup=False)
                yield Static("", classes="field-error")

    def _input(self, field: FormField) -> Widget:
        fid = field_id(field)
        if field.kind == "bool":
            return Switch(id=fid)
        if field.kind == "choice":
            blank = field.optional or field.default is MISSING
            options = ((c, c) for c in field.choices)
            return Select[str](options, allow_blank=blank, id=fid, compact=True)
        if field.kind == "choices":
            return SelectionList[str](*((c, c) for c in field.choices), id=fid)
        kind: Literal["integer", "text"] = "integer" if field.kind == "int" else "text"
        return Input(
            placeholder=_placeholder(field), type=kind, id=fid, select_on_focus=False, compact=True
        )

    def _widget(self, field: FormField) -> Widget:
        return self.query_one(f"#{field_id(field)}")

    def load(self, values: Mapping[str, FormValue]) -> None:
        """Show these values (the Changed messages this causes change nothing: the
        owner compares values with the data, not events)."""
        for field in self.fields:
            value = values.get(field.key, "")
            widget = self._widget(field)
            if isinstance(widget, Switch):
                widget.value = bool(value)
            elif isinstance(widget, SelectionList):
                widget.deselect_all()
                for choice in value if isinstance(value, tuple) else ():
                    widget.select(choice)
            elif isinstance(widget, Select):
                if value in field.choices:
                    widget.value = str(value)
                elif field.optional or field.default is MISSING:
                    widget.clear()
            elif isinstance(widget, Input):
                widget.value = str(value)

    def values(self) -> dict[str, FormValue]:
        out: dict[str, FormValue] = {}
        for field in self.fields:
            widget = self._widget(field)
            if isinstance(widget, Switch):
                out[field.key] = widget.value
            elif isinstance(widget, SelectionList):
                out[field.key] = tuple(str(v) for v in widget.selected)
            elif isinstance(widget, Select):
                out[field.key] = "" if widget.is_blank() else str(widget.value)
            elif isinstance(widget, Input):
                out[field.key] = widget.value
        return out

    def show_problems(self, by_field: Mapping[str, str], general: Iterable[str] = ()) -> None:
        for field in self.fields:
            box = self.query_one(f"#{field_id(field)}-box")
            message = by_field.get(field.key)
            box.set_class(message is not None, "-invalid")
            box.query_one(".field-error", Static).update(f"✗ {message}" if message else "")
        text = "\n".join(f"✗ {m}" for m in general)
        shown = self.query_one(".form-general", Static)
        shown.update(text)
        shown.set_class(bool(text), "-shown")

    def focus_field(self, key: str) -> None:
        for field in self.fields:
            if field.key == key:
                self._widget(field).focus()

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed(self))


def set_choices(form: OptionForm, key: str, choices: tuple[str, ...]) -> None:
    """Replace the options of a choice field (e.g. the runtime names after one was added)."""
    for field in form.fields:
        if field.key == key and field.kind == "choice":
            select = form.query_one(f"#{field_id(field)}", Select)
            keep = None if select.is_blank() else select.value
            select.set_options((c, c) for c in choices)
            if keep in choices:
                select.value = keep
