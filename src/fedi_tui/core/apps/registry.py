"""Discover installed application modules through the `fedi_tui.apps` entry points."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from fedi_tui.core.apps.base import AppModule
from fedi_tui.core.errors import FediError

GROUP = "fedi_tui.apps"


@cache
def installed_apps() -> dict[str, AppModule]:
    """Every application module installed, by name, in name order."""
    found: dict[str, AppModule] = {}
    for ep in entry_points(group=GROUP):
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must not take the program down
            raise FediError(
                f"application plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
            ) from exc
        if not isinstance(module, AppModule):
            raise FediError(f"application plugin {ep.name!r} ({ep.value}) is not an AppModule")
        if module.name != ep.name:
            raise FediError(f"application plugin {ep.name!r} calls itself {module.name!r}")
        found[module.name] = module
    return dict(sorted(found.items()))
