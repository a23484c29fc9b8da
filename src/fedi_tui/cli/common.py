"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.statefile import LoadedState, find_state_path, load_state

EXIT_OK = 0
EXIT_USER = 1
EXIT_CHANGES = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class UserDirs:
    config: Path
    state: Path


def user_dirs() -> UserDirs:
    """XDG config and state directories for fedi-tui."""
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "fedi-tui"
    state = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "fedi-tui"
    return UserDirs(config, state)


def state_path(args: argparse.Namespace) -> Path:
    return find_state_path(args.state)


def load(args: argparse.Namespace) -> LoadedState:
    return load_state(state_path(args))
