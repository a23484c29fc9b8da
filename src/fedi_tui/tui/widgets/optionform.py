"""A form generated from `core.forms.FormField`s: one input per field, help and problems below."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
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


class NumberInput(Input):
    """An integer input that says so when a key is refused (the default only rings the bell)."""

    class Refused(Message):
        """A key was refused: only a whole number fits."""

        def __init__(self, number_input: NumberInput) -> None:
            super().__init__()
            self.input = number_input

    def restricted(self) -> None:
        self.app.bell()
        self.post_message(self.Refused(self))


REFUSED = "only a whole number fits here (digits, e.g. 30)"


class OptionForm(VerticalScroll):
    """Inputs for a fixed set of fields; `load()` fills them, `values()` reads them.

    A field's problem shows once the person has left that field, or after `reveal()`
    (a save was tried): a fresh form does not open full of errors.
    """

    can_focus = False  # Tab goes from field to field, not to the scrolling box

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

    class Left(Message):
        """The person left a field for the first time: its problem, if any, now shows."""

        def __init__(self, form: OptionForm, key: str) -> None:
            super().__init__()
            self.form = form
            self.key = key

        @property
        def control(self) -> OptionForm:
            return self.form

    def __init__(
        self, fields: Iterable[FormField], *, id: str | None = None, disabled: bool = False
    ) -> None:
        super().__init__(id=id, disabled=disabled)
        self.fields = tuple(fields)
        self._by_id = {field_id(f): f.key for f in self.fields}
        self._boxes = {f"{field_id(f)}-box" for f in self.fields}
        self._problems: tuple[dict[str, str], tuple[str, ...]] = ({}, ())
        self._left: set[str] = set()
        """Fields the person has been in and left."""
        self._changed = False
        """Some value was changed by the person since `load`."""
        self._revealed = False
        self._refused: set[str] = set()
        """Number fields where a key was just refused (told until the next change)."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="form-general", markup=False)
        for field in self.fields:
            with Vertical(classes="field", id=f"{field_id(field)}-box"):
                yield Label(field.label, classes="field-label", markup=False)
                yield self._input(field)
                if field.help:
                    yield Static(field.help, classes="field-help", markup=False)
                yield Static("", classes="field-error", markup=False)

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
        if field.kind == "int":
            return NumberInput(
                placeholder=_placeholder(field),
                type="integer",
                id=fid,
                select_on_focus=False,
                compact=True,
            )
        return Input(placeholder=_placeholder(field), id=fid, select_on_focus=False, compact=True)

    def _widget(self, field: FormField) -> Widget:
        return self.query_one(f"#{field_id(field)}")

    def load(self, values: Mapping[str, FormValue]) -> None:
        """Show these values; problems hide again until fields are left. Posts no
        Changed: the owner checks the loaded values itself."""
        self._left.clear()
        self._changed = self._revealed = False
        with self.prevent(
            Input.Changed, Switch.Changed, Select.Changed, SelectionList.SelectedChanged
        ):
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
        """The problems of the values now in the form (each shows once its field was left)."""
        self._problems = (dict(by_field), tuple(general))
        self._show()

    def reveal(self) -> None:
        """Show every problem now (a save was tried)."""
        self._revealed = True
        self._show()

    @property
    def shown_problems(self) -> int:
        """How many problems are on screen."""
        by_field, general = self._problems
        shown = sum(1 for key in by_field if self._revealed or key in self._left)
        return shown + (len(general) if self._revealed or self._changed else 0)

    def _show(self) -> None:
        by_field, general = self._problems
        for field in self.fields:
            box = self.query_one(f"#{field_id(field)}-box")
            message = by_field.get(field.key)
            if not (self._revealed or field.key in self._left):
                message = None
            if field.key in self._refused:
                message = REFUSED
            box.set_class(message is not None, "-invalid")
            box.query_one(".field-error", Static).update(f"✗ {message}" if message else "")
        text = "\n".join(f"✗ {m}" for m in general) if self._revealed or self._changed else ""
        shown = self.query_one(".form-general", Static)
        shown.update(text)
        shown.set_class(bool(text), "-shown")

    @on(NumberInput.Refused)
    def _refused_key(self, event: NumberInput.Refused) -> None:
        event.stop()
        key = self._by_id.get(event.input.id or "")
        if key is not None:
            self._refused.add(key)
            self._show()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Keep the whole field in view (its label above the input, its help below)."""
        node: DOMNode | None = event.widget
        while node is not None and node is not self:
            if isinstance(node, Widget) and node.id in self._boxes:
                self.call_after_refresh(self.scroll_to_widget, node, animate=False)
                return
            node = node.parent

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        node: DOMNode | None = event.widget
        while node is not None and node is not self:
            key = self._by_id.get(node.id or "")
            if key is not None:
                if key not in self._left:
                    self._left.add(key)
                    self._show()
                    self.post_message(self.Left(self, key))
                return
            node = node.parent

    def focus_field(self, key: str) -> None:
        for field in self.fields:
            if field.key == key:
                self._widget(field).focus(scroll_visible=False)

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _value_changed(self, event: Message) -> None:
        event.stop()
        if self._refused:
            self._refused.clear()
            self._show()
        if self.app.focused is not None and self in self.app.focused.ancestors:
            self._changed = True  # typed or toggled here, not filled in by `load`
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
