"""The command palette (ctrl+p): every action of the current screen, the areas, the themes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from fedi_tui.tui import messages
from fedi_tui.tui.widgets.navbar import AREAS

Command = tuple[str, str, Callable[[], object]]
"""(title, help, callback)."""


class FediCommands(Provider):
    """Built in `startup()` from the screen's active bindings, so no action is missing."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._commands: list[Command] = []

    async def startup(self) -> None:
        app = self.app
        screen = self.screen
        commands: list[Command] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            if active.enabled:
                key = app.get_key_display(binding)
                run = partial(app.call_later, app.run_action, binding.action, active.node)
                commands.append((binding.description, f"key: {key}", run))
            else:
                note = "disabled in read-only mode"
                commands.append((f"{binding.description} (read-only)", note, lambda: None))
        for key, mode, label in AREAS:
            go = partial(app.switch_mode, mode)
            commands.append((f"Go to {label}", f"key: {key}", go))
        commands.append(
            (
                "Reload the state file",
                "read fedi.toml again, dropping unsaved edits",
                partial(app.post_message, messages.ReloadState()),
            )
        )
        for name in sorted(app.available_themes):
            if name.startswith("fedi-"):
                commands.append(
                    (
                        f"Theme: {name}",
                        "switch theme (remembered)",
                        partial(setattr, app, "theme", name),
                    )
                )
        self._commands = commands

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands:
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
