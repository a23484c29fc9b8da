"""One line: what applying the state would change (`fedi-tui plan`'s summary)."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

PENDING = "plan: working it out…"


class PlanSummary(Static):
    """The plan summary line. With `follow_app` it shows the App's plan of the saved state;
    otherwise the owner sets `text` (the wizard shows the plan of its draft)."""

    DEFAULT_CSS = """
    PlanSummary {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    text: reactive[str] = reactive(PENDING)

    def __init__(self, *, follow_app: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.follow_app = follow_app

    def on_mount(self) -> None:
        if self.follow_app:
            self.watch(self.app, "plan_text", self._follow)

    def _follow(self, text: str) -> None:
        self.text = text

    def watch_text(self, text: str) -> None:
        self.update(text)
