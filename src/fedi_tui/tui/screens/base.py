"""What every area screen shares: the nav bar, Esc for back, read-only, the state watch."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding, BindingType
from textual.screen import Screen

from fedi_tui.tui.widgets.filtertable import FilterTable
from fedi_tui.tui.widgets.navbar import NavBar

if TYPE_CHECKING:
    from fedi_tui.core.state.file import LoadedState
    from fedi_tui.tui.app import FediApp


class AreaScreen(Screen[None]):
    """A top-level area (an App mode). Subclasses set AREA and implement `show_state`."""

    AREA: ClassVar[str] = ""
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    """Actions that change anything (the state file, a deployment): in read-only mode they
    are absent — from the footer, the help, the palette — and pressing their key does nothing."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False),
    ]

    @property
    def fedi(self) -> FediApp:
        from fedi_tui.tui.app import FediApp

        return cast(FediApp, self.app)

    def nav_bar(self) -> NavBar:
        only = "Guided setup of a new operator" if self.fedi.setup_only else None
        state = self.fedi.state
        return NavBar(
            self.AREA,
            state.path.name,
            self.fedi.read_only,
            only=only,
            sandbox=state.spec.provider.sandbox,
        )

    def on_mount(self) -> None:
        self.watch(self.fedi, "state", self.show_state)

    def show_state(self, loaded: LoadedState) -> None:
        """Show this state (called at mount and after every save or reload)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.EDIT_ACTIONS and self.fedi.read_only)

    def action_back(self) -> None:
        """Esc: from a field (or the preview) back to the area's list; from there, home."""
        lists = list(self.query(FilterTable).results(FilterTable))
        focused = self.focused
        if lists and focused is not None and not any(t in focused.ancestors for t in lists):
            lists[0].focus_table()
        elif self.AREA != "dashboard":
            self.app.switch_mode("dashboard")
