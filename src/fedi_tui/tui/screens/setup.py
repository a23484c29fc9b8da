"""Guided setup: apps → operator and domain → admin → size → review → save.

Nothing is written until the final save; each "next" checks its step first.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.selection_list import Selection

from fedi_tui.core.apps.base import AdminAccount
from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.spec import OperatorSpecBase
from fedi_tui.core.views.forms import changed_lines, preview_text
from fedi_tui.core.views.wizard import (
    STEP_TITLES,
    STEPS,
    OperatorDraft,
    draft_edits,
    size_label,
    slug,
    start_draft,
    step_problems,
)
from fedi_tui.tui import messages
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.widgets.plansummary import PENDING, PlanSummary

_TEXT = {  # draft field → (label, help)
    "name": ("Operator name", OperatorSpecBase.model_fields["name"].description),
    "operator_id": ("Short id", "Lower-case letters, digits and '-'; used in machine names."),
    "email": ("Contact e-mail", OperatorSpecBase.model_fields["email"].description),
    "domain": ("Domain", OperatorSpecBase.model_fields["domain"].description),
    "admin_username": ("Username", AdminAccount.model_fields["username"].description),
    "admin_email": ("E-mail", AdminAccount.model_fields["email"].description),
}


class SetupScreen(AreaScreen):
    AREA = "setup"
    CSS_PATH = "setup.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+b", "previous", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("slash", "filter_apps", "Filter", show=False),
    ]
    EDIT_ACTIONS = frozenset({"next", "previous", "save"})

    def __init__(self) -> None:
        super().__init__()
        self.apps = installed_apps()
        self.draft = OperatorDraft()
        self.step = 0
        self.tried: set[str] = set()
        self.chosen_apps: set[str] = set()
        """Applications ticked in the list, including ones the filter hides."""
        self._told_pending = False

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static(id="steps")
        if self.fedi.read_only:
            yield Static(
                "Read-only: the guided setup cannot save. Restart without --read-only.",
                id="read-only-note",
            )
            yield Footer(compact=True)
            return
        with ContentSwitcher(initial="step-apps", id="wizard"):
            with VerticalScroll(id="step-apps"):
                yield Static(
                    "Which applications should the operator get? Space toggles.", classes="hint"
                )
                yield Input(placeholder="filter applications", id="w-apps-filter", compact=True)
                yield SelectionList[str](*self._app_options(""), id="w-apps")
                yield Static(classes="error", id="e-apps")
            with VerticalScroll(id="step-domain"):
                for name in ("name", "operator_id", "email", "domain"):
                    yield from self._text(name)
                data = self.fedi.state.data
                for key, section, label in (
                    ("runtime", "runtimes", "Runtime (where the apps run)"),
                    ("storage", "storage", "Storage (where their files go)"),
                ):
                    yield Label(label, classes="field-label")
                    names = list(data.get(section) or {})
                    yield Select[str](((n, n) for n in names), id=f"w-{key}", compact=True)
                    yield Static(classes="error", id=f"e-{key}")
            with VerticalScroll(id="step-admin"):
                yield Static("The first administrator of every chosen application.", classes="hint")
                for name in ("admin_username", "admin_email"):
                    yield from self._text(name)
            with VerticalScroll(id="step-size"):
                yield Static("How many people will use each application?", classes="hint")
                for name, module in self.apps.items():
                    yield Label(module.title, classes="field-label", id=f"l-size-{name}")
                    yield Select[str](
                        ((size_label(module, s), s) for s in module.sizes),
                        value="small",
                        allow_blank=False,
                        id=f"w-size-{name}",
                        compact=True,
                    )
                yield Static(classes="error", id="e-sizes")
            with VerticalScroll(id="step-review"):
                yield Static("This is added to the state file:", classes="hint")
                yield Static(id="review-text", markup=False)
                yield PlanSummary(follow_app=False)
                yield Static(classes="error", id="e-review")
        with Horizontal(id="wizard-buttons"):
            yield Button("Back (ctrl+b)", id="back", compact=True)
            yield Button("Next (ctrl+n)", variant="primary", id="next", compact=True)
        yield Footer(compact=True)

    def _text(self, name: str) -> ComposeResult:
        label, help_text = _TEXT[name]
        yield Label(label, classes="field-label")
        yield Input(id=f"w-{name}", compact=True)
        yield Static(help_text or "", classes="field-help", markup=False)
        yield Static(classes="error", id=f"e-{name}")

    def show_state(self, loaded: LoadedState) -> None:
        self._show_steps()
        if self.fedi.read_only:
            return
        self._tell_pending(force=True)  # a reload forgot it
        for section, key in (("runtimes", "runtime"), ("storage", "storage")):
            names = list(loaded.data.get(section) or {})
            select = self.query_one(f"#w-{key}", Select)
            select.set_options((n, n) for n in names)
        if not self.draft.runtime:
            self.draft = start_draft(loaded.data).but(sizes=dict(self.draft.sizes))
            self._fill()
            self._go(self.step)

    def _fill(self) -> None:
        for name in ("runtime", "storage"):
            value = getattr(self.draft, name)
            if value:
                self.query_one(f"#w-{name}", Select).value = value

    def _show_steps(self) -> None:
        parts = []
        for i, step in enumerate(STEPS):
            text = f"{i + 1} {step.capitalize()}"
            parts.append(f"[reverse b] {text} [/]" if i == self.step else f" {text} ")
        title = STEP_TITLES[STEPS[self.step]]
        self.query_one("#steps", Static).update("›".join(parts) + f"  [b]{title}[/b]")

    def _read(self) -> OperatorDraft:
        sizes = {name: str(self.query_one(f"#w-size-{name}", Select).value) for name in self.apps}
        texts = {n: self.query_one(f"#w-{n}", Input).value for n in _TEXT}
        selects = {}
        for name in ("runtime", "storage"):
            select = self.query_one(f"#w-{name}", Select)
            selects[name] = "" if select.is_blank() else str(select.value)
        apps = tuple(name for name in self.apps if name in self.chosen_apps)
        return self.draft.but(apps=apps, sizes=sizes, **texts, **selects)

    # --- the application list and its `/` filter ----------------------------------

    def _app_options(self, text: str) -> list[tuple[str, str, bool]]:
        needle = text.strip().lower()
        return [
            (f"{m.title} — {m.summary}", name, name in self.chosen_apps)
            for name, m in self.apps.items()
            if needle in f"{name} {m.title} {m.summary}".lower()
        ]

    def action_filter_apps(self) -> None:
        if STEPS[self.step] == "apps":
            box = self.query_one("#w-apps-filter", Input)
            box.display = True
            self.set_focus(box)  # at once: keys typed right after `/` are the filter's

    @on(Input.Changed, "#w-apps-filter")
    def _filter_apps(self, event: Input.Changed) -> None:
        event.stop()
        apps = self.query_one("#w-apps", SelectionList)
        with apps.prevent(SelectionList.SelectedChanged):
            apps.clear_options()
            apps.add_options(self._app_options(event.value))

    @on(Input.Submitted, "#w-apps-filter")
    def _filter_done(self) -> None:
        apps = self.query_one("#w-apps", SelectionList)
        apps.focus()
        if apps.option_count and apps.highlighted is None:
            apps.highlighted = 0

    @on(SelectionList.SelectedChanged, "#w-apps")
    def _apps_chosen(self, event: SelectionList.SelectedChanged[str]) -> None:
        shown = {
            str(option.value)
            for option in event.selection_list.options
            if isinstance(option, Selection)
        }
        picked = {str(value) for value in event.selection_list.selected}
        self.chosen_apps = (self.chosen_apps - shown) | picked
        self.draft = self._read()
        self._tell_pending()
        if STEPS[self.step] in self.tried:
            self._show_problems()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        before = self.draft
        self.draft = self._read()
        if isinstance(event, Input.Changed) and event.input.id == "w-name":
            id_input = self.query_one("#w-operator_id", Input)
            if id_input.value in ("", slug(before.name)):
                id_input.value = slug(self.draft.name)
        self._tell_pending()
        if STEPS[self.step] in self.tried:
            self._show_problems()

    @property
    def has_answers(self) -> bool:
        """Something was chosen or typed that a quit would lose."""
        if self.fedi.read_only or not self.is_mounted:
            return False
        typed = any(self.query_one(f"#w-{n}", Input).value.strip() for n in _TEXT)
        return typed or bool(self.chosen_apps)

    def _tell_pending(self, *, force: bool = False) -> None:
        pending = self.has_answers
        if force or pending != self._told_pending:
            self._told_pending = pending
            self.post_message(messages.EditsPending("setup", pending))

    def _show_problems(self) -> dict[str, str]:
        step = STEPS[self.step]
        problems = step_problems(self.draft, self.fedi.state.data, step)
        for error in self.query(".error").results(Static):
            key = (error.id or "").removeprefix("e-")
            if step == "review":
                error.update(
                    "\n".join(f"✗ {m}" for m in problems.values()) if key == "review" else ""
                )
            else:
                error.update(f"✗ {problems[key]}" if key in problems else "")
        return problems

    def _go(self, step: int) -> None:
        self.step = step
        name = STEPS[step]
        self.query_one(ContentSwitcher).current = f"step-{name}"
        self.query_one("#next", Button).label = (
            "Save (ctrl+s)" if name == "review" else "Next (ctrl+n)"
        )
        self.query_one("#back", Button).disabled = step == 0
        if name == "admin" and not self.draft.admin_email:
            self.query_one("#w-admin_email", Input).value = self.draft.email
        if name == "size":
            for app in self.apps:
                shown = app in self.draft.apps
                self.query_one(f"#w-size-{app}").display = shown
                self.query_one(f"#l-size-{app}").display = shown
        if name == "review":
            self._review()
        self._show_steps()
        self._show_problems() if name in self.tried else None
        container = self.query_one(f"#step-{name}")
        focusable: list[Widget] = [
            w for w in container.query("Input, Select, SelectionList") if w.display
        ]
        if focusable:
            focusable[0].focus()
            if isinstance(focusable[0], SelectionList) and focusable[0].highlighted is None:
                focusable[0].highlighted = 0

    def _review(self) -> None:
        loaded = self.fedi.state
        text = preview_text(loaded.text, loaded.data, draft_edits(self.draft))
        lines = [line[1:] for line in changed_lines(loaded.text, text) if line.startswith("+")]
        self.query_one("#review-text", Static).update("\n".join(lines))
        self._plan_draft()

    def _plan_draft(self) -> None:
        """The plan of the state as it would be with this operator added (in an App job)."""
        from fedi_tui.core.state.tomledit import apply_to_data
        from fedi_tui.core.views.planline import plan_line

        summary = self.query_one(PlanSummary)
        summary.text = PENDING
        loaded, draft = self.fedi.state, self.draft
        data = apply_to_data(loaded.data, draft_edits(draft))

        def show(line: str) -> None:
            if self.is_attached and self.draft is draft:
                summary.text = line.replace("plan:", f"plan with {draft.operator_id}:", 1)

        work = partial(plan_line, data, loaded.path, operator=draft.operator_id)
        self.fedi.start_job(work, name="plan the new operator", group="plan-draft", done=show)

    def action_next(self) -> None:
        step = STEPS[self.step]
        if step == "review":
            self.action_save()
            return
        self.tried.add(step)
        problems = self._show_problems()
        if problems:
            self.notify(
                next(iter(problems.values())), title="Please correct this first", severity="warning"
            )
            return
        self._go(self.step + 1)

    def action_previous(self) -> None:
        if self.step > 0:
            self._go(self.step - 1)

    def action_back(self) -> None:
        if self.fedi.setup_only:
            self._ask_to_leave()
        elif self.step > 0 and not self.fedi.read_only:
            self._go(self.step - 1)
        else:
            super().action_back()

    def _ask_to_leave(self) -> None:
        """`fedi-tui setup` has nothing to go back to: Esc leaves it, after asking."""
        body = (
            "Your answers are not saved and would be lost."
            if self.has_answers
            else "Nothing has been saved; the state file is unchanged."
        )
        modal = ConfirmModal("Leave the guided setup?", body, yes="Leave", no="Stay")
        self.app.push_screen(modal, lambda leave: self.app.exit() if leave else None)

    def action_save(self) -> None:
        if STEPS[self.step] != "review":
            self.notify("Go through the steps to the review first (ctrl+n).")
            return
        self.tried.add("review")
        if self._show_problems():
            return
        op_id = self.draft.operator_id.strip()
        self.post_message(
            messages.SaveEdits(draft_edits(self.draft), f"new operator {op_id}", then=self._saved)
        )

    def _saved(self, loaded: LoadedState) -> None:
        op_id = self.draft.operator_id.strip()
        if self.fedi.setup_only:
            self.app.exit(f"added operator {op_id} to {loaded.path}")
            return
        self._reset()
        self.app.switch_mode("operators")
        select = getattr(self.app.screen, "select_entry", None)
        if select is not None:
            self.app.call_after_refresh(select, op_id)

    def _reset(self) -> None:
        self.tried.clear()
        for widget in self.query(Input).results(Input):
            widget.value = ""
        self.query_one("#w-apps", SelectionList).deselect_all()
        self.chosen_apps.clear()
        self.query_one("#w-apps-filter", Input).display = False
        self.draft = start_draft(self.fedi.state.data)
        self._fill()
        self._go(0)
        self._tell_pending()

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_previous()
