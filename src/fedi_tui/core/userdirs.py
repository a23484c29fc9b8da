"""The user's XDG directories for fedi-tui: remembered settings and crash logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class UserDirs:
    config: Path
    """$XDG_CONFIG_HOME/fedi-tui: settings the user chose (theme, …)."""
    state: Path
    """$XDG_STATE_HOME/fedi-tui: crash traces and other local records."""


def user_dirs() -> UserDirs:
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "fedi-tui"
    state = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "fedi-tui"
    return UserDirs(config, state)


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/fedi-tui: what can be rebuilt at any time (the first-view cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fedi-tui"
