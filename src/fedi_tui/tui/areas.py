"""The top-level areas: their keys, names and screens (imported when first visited)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedi_tui.tui.screens.base import AreaScreen

AREAS: tuple[tuple[str, str, str], ...] = (
    ("1", "dashboard", "Dashboard"),
    ("2", "operators", "Operators"),
    ("3", "runtimes", "Runtimes"),
    ("4", "setup", "Setup"),
    ("5", "nix", "Nix"),
    ("6", "deployments", "Deploy"),
)
"""(key, mode, title) of each area, in nav-bar order."""

READ_WRITE_AREAS = frozenset({"setup"})
"""Areas that exist only to change the state file: absent in read-only mode."""

AREA_TITLES = {mode: label for _, mode, label in AREAS}

SCREENS: dict[str, tuple[str, str]] = {
    "dashboard": ("fedi_tui.tui.screens.dashboard", "DashboardScreen"),
    "operators": ("fedi_tui.tui.screens.operators", "OperatorsScreen"),
    "runtimes": ("fedi_tui.tui.screens.runtimes", "RuntimesScreen"),
    "setup": ("fedi_tui.tui.screens.setup", "SetupScreen"),
    "nix": ("fedi_tui.tui.screens.nixpreview", "NixScreen"),
    "deployments": ("fedi_tui.tui.screens.deployments", "DeploymentsScreen"),
}
"""Mode → (module, class) of its screen; imported on first use so start-up stays fast."""


def screen_class(mode: str) -> type[AreaScreen]:
    module, name = SCREENS[mode]
    cls: type[AreaScreen] = getattr(importlib.import_module(module), name)
    return cls
