"""The one way to build the app: used by `fedi-tui`, `fedi-tui setup` and the tests."""

from __future__ import annotations

from pathlib import Path

from fedi_tui.core.statefile import load_state
from fedi_tui.tui.app import FediApp


def build_app(
    state: Path,
    *,
    read_only: bool = False,
    mode: str = "dashboard",
    theme: str | None = None,
    remember_theme: bool = True,
    setup_only: bool = False,
) -> FediApp:
    """Load the state file (FediError if it is unusable) and build the app on it."""
    loaded = load_state(state)
    return FediApp(
        loaded,
        read_only=read_only,
        mode=mode,
        theme=theme,
        remember=remember_theme,
        setup_only=setup_only,
    )
