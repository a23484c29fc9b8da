"""The plan view: every step applying the saved fedi.toml would run, and the summary."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PENDING = "working out the plan …"


class PlanScreen(ModalScreen[None]):
    """Shows `text` (set by the App's plan job); j/k scroll, Esc closes."""

    CSS_PATH = "plan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = "Plan — what applying fedi.toml would change"
            if self._sandbox():
                title = f"SANDBOX · {title}"
            yield Static(title, classes="dialog-title")
            with VerticalScroll(id="plan-scroll"):
                yield Static(PENDING, id="plan-text", markup=False)
            hint = "Esc closes · j/k scroll · `fedi-tui plan` also shows the diffs"
            yield Static(hint, classes="hint")

    def _sandbox(self) -> bool:
        state = getattr(self.app, "state", None)
        return bool(state is not None and state.spec.provider.sandbox)

    def on_mount(self) -> None:
        self.query_one("#plan-scroll").focus()

    def show(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#plan-text", Static).update(text)

    @property
    def text(self) -> str:
        return str(self.query_one("#plan-text", Static).render())

    def action_scroll(self, lines: int) -> None:
        self.query_one("#plan-scroll").scroll_relative(y=lines, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
