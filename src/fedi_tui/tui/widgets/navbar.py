"""The one-line top bar: program, the areas with their keys, the file, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from fedi_tui.tui.areas import AREAS, READ_WRITE_AREAS


class NavBar(Static):
    """Shows where you are and how to get elsewhere; replaces Textual's Header (no clock)."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(
        self,
        current: str,
        file_name: str,
        read_only: bool,
        *,
        only: str | None = None,
        sandbox: bool = False,
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        """The state file is a sandbox's (`provider.sandbox`): a badge says so, first."""
        self.current = current
        self.file_name = file_name
        self.read_only = read_only
        self.only = only
        """Started for one task (`fedi-tui setup`): its title instead of the areas."""

    def on_mount(self) -> None:
        self.update(self._line())
        self.watch(self.app, "theme", lambda _theme: self.update(self._line()), init=False)

    def _line(self) -> Text:
        variables = self.app.theme_variables
        key_style = f"bold {variables.get('accent', 'yellow')}"
        here_style = f"bold reverse {variables.get('primary', 'blue')}"
        line = Text(" fedi-tui ", style="bold")
        if self.sandbox:  # first, like READ-ONLY, so no terminal is too narrow to show it
            line.append(" SANDBOX ", style=f"bold reverse {variables.get('error', 'red')}")
        if self.read_only:  # first, so no terminal is too narrow to show it
            line.append(" READ-ONLY ", style=f"bold reverse {variables.get('warning', 'yellow')}")
        if self.only is not None:
            line.append(" ")
            line.append(f" {self.only} ", style=here_style)
        for key, mode, label in AREAS if self.only is None else ():
            if self.read_only and mode in READ_WRITE_AREAS:
                continue
            line.append(" ")
            line.append(key, style=key_style)
            line.append(f" {label} ", style=here_style if mode == self.current else "")
        line.append(f"  {self.file_name}", style="dim")
        return line
