"""Tabs whose active pane follows where the focus is now, not where it was a moment ago."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class FocusTabs(TabbedContent):
    """A `TabbedContent` that ignores a pane's "something in me was focused" once the focus
    has already moved on.

    Textual activates a pane when a widget inside it is focused, by a message that arrives
    after the focus change. When two focus changes follow each other closely (a tab key
    pressed while the screen still settles its first focus), the older message would make
    its pane active again, that pane's screen would focus its widget, and the two panes
    would take turns for as long as the app runs."""

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.prevent_default()  # stale: the pane that has the focus now stays active
            event.stop()
