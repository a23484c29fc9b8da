"""The one-line top bar: program, the areas with their keys, the file, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

AREAS: tuple[tuple[str, str, str], ...] = (
    ("1", "dashboard", "Dashboard"),
    ("2", "operators", "Operators"),
    ("3", "runtimes", "Runtimes"),
    ("4", "setup", "Setup"),
    ("5", "nix", "Nix"),
)


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

    def __init__(self, current: str, file_name: str, read_only: bool) -> None:
        super().__init__()
        self.current = current
        self.file_name = file_name
        self.read_only = read_only

    def on_mount(self) -> None:
        self.update(self._line())
        self.watch(self.app, "theme", lambda _theme: self.update(self._line()), init=False)

    def _line(self) -> Text:
        variables = self.app.theme_variables
        key_style = f"bold {variables.get('accent', 'yellow')}"
        here_style = f"bold reverse {variables.get('primary', 'blue')}"
        line = Text(" fedi-tui ", style="bold")
        for key, mode, label in AREAS:
            line.append(" ")
            line.append(key, style=key_style)
            line.append(f" {label} ", style=here_style if mode == self.current else "")
        line.append(f"  {self.file_name}", style="dim")
        if self.read_only:
            line.append("  READ-ONLY", style=f"bold {variables.get('warning', 'yellow')}")
        return line
