"""The command palette (ctrl+p): every action of fedi-tui by name, ranked before Textual's own.

Built in `startup()` from the bindings of the current screen and of every area
screen, so no action is missing: "Runtimes: Test connection" is found from the
dashboard too (it goes there and runs it). Textual's generic commands (keys,
screenshot, maximize) come after fedi-tui's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.system_commands import SystemCommandsProvider

from fedi_tui.tui import messages
from fedi_tui.tui.areas import screen_class

if TYPE_CHECKING:
    from fedi_tui.tui.app import FediApp

Command = tuple[str, str, Callable[[], object]]
"""(title, help, callback)."""

_NOT_COMMANDS = frozenset({"back", "help", "quit", "plan"})
"""Bindings not listed per screen: Back makes no sense by name; help, quit and plan are
app commands, listed once."""


def _ranked(score: float, ours: bool) -> float:
    """fedi-tui's hits in [1, 2), Textual's in [0, 1): ours always come first, and each
    provider's own order is kept (the matcher's scores have no upper bound)."""
    squashed = score / (1 + score) if score > 0 else 0.0
    return 1 + squashed if ours else squashed


class FediCommands(Provider):
    """fedi-tui's commands: this screen's, the other areas', the app's, the themes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._commands: list[Command] = []

    async def startup(self) -> None:
        from fedi_tui.tui.screens.base import AreaScreen

        app = cast("FediApp", self.app)
        screen = self.screen
        commands: list[Command] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if active.node is not screen or not self._wanted(binding, seen):
                continue
            if not active.enabled:
                continue
            key = app.get_key_display(binding)
            run = partial(app.call_later, app.run_action, binding.action, active.node)
            commands.append((binding.description, f"key: {key}", run))
        here = getattr(screen, "AREA", None) if isinstance(screen, AreaScreen) else None
        if not app.setup_only:
            for _, mode, title in app.areas():
                if mode != here:
                    commands += self._area_commands(app, mode, title)
        commands += self._app_commands(app)
        self._commands = commands

    @staticmethod
    def _wanted(binding: Binding, seen: set[str]) -> bool:
        if not binding.description or binding.system or binding.action in _NOT_COMMANDS:
            return False
        if binding.action.startswith("show_tab("):
            return False  # which tab of an area: a key, not a command
        if binding.action in seen:
            return False
        seen.add(binding.action)
        return True

    def _area_commands(self, app: FediApp, mode: str, title: str) -> Iterable[Command]:
        """Another area's actions: choosing one goes there and runs it."""
        cls = screen_class(mode)
        seen: set[str] = set()
        for klass in cls.__mro__:
            if klass.__dict__.get("AREA") is None:  # AreaScreen itself and Screen: no
                continue
            for item in klass.__dict__.get("BINDINGS", ()):
                binding = item if isinstance(item, Binding) else Binding(*item)
                if not self._wanted(binding, seen):
                    continue
                key = binding.key.split(",")[0]
                name = f"{title}: {binding.description}"
                if app.read_only and binding.action in cls.EDIT_ACTIONS:
                    continue  # absent, not offered and refused
                go = partial(_go_and_run, app, mode, binding.action)
                yield name, f"in {title} (key {key} there)", go

    @staticmethod
    def _app_commands(app: FediApp) -> Iterable[Command]:
        if not app.setup_only:
            yield (
                "Plan: what applying fedi.toml would change",
                "the steps and the summary, as `fedi-tui plan` prints them",
                partial(app.run_action, "plan"),
            )
            for key, mode, label in app.areas():
                yield f"Go to {label}", f"key: {key}", partial(app.switch_mode, mode)
            yield (
                "Reload the state file",
                "read fedi.toml again, dropping unsaved edits",
                partial(app.post_message, messages.ReloadState()),
            )
        yield "Help: the keys of this screen", "key: ?", partial(app.run_action, "help")
        yield (
            "Quit fedi-tui",
            "keys: q, ctrl+q, ctrl+c (asks first if edits are not saved)",
            (partial(app.run_action, "quit")),
        )
        for name in sorted(app.available_themes):
            if name.startswith("fedi-"):
                yield (
                    f"Theme: {name}",
                    "switch theme (remembered)",
                    partial(setattr, app, "theme", name),
                )

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands:
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands:
            score = matcher.match(title)
            if score > 0:
                yield Hit(_ranked(score, True), matcher.highlight(title), run, help=help_text)


class TextualCommands(SystemCommandsProvider):
    """Textual's generic commands, ranked after fedi-tui's; found by name, not listed."""

    async def discover(self) -> Hits:
        return
        yield  # pragma: no cover - an empty async generator

    async def search(self, query: str) -> Hits:
        async for hit in super().search(query):
            if isinstance(hit, Hit):
                hit.score = _ranked(hit.score, False)
            yield hit


async def _go_and_run(app: FediApp, mode: str, action: str) -> None:
    await app.switch_mode(mode)
    screen: Any = app.screen
    await app.run_action(action, screen)
