"""One line: what a deploy of the current state would change.

PLAN HOOK — wired by the lead once `fedi_tui.core.plan` is final: replace
`plan_line()` (or have the App compute the summary in a job and set
`PlanSummary.text`). Until then the line says the plan is not available.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from fedi_tui.core.statefile import LoadedState


def plan_line(loaded: LoadedState | None) -> str:
    """PLAN HOOK: the plan summary for this state, e.g. 'plan: 3 to create, 1 to change'."""
    return "plan: not available yet"


class PlanSummary(Static):
    """The plan summary line on the dashboard and the wizard's review."""

    DEFAULT_CSS = """
    PlanSummary {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    text: reactive[str] = reactive("plan: not available yet")

    def watch_text(self, text: str) -> None:
        self.update(text)

    def show_for(self, loaded: LoadedState | None) -> None:
        self.text = plan_line(loaded)
