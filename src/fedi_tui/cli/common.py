"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from fedi_tui.core.state.file import LoadedState, find_state_path, load_state

if TYPE_CHECKING:
    from fedi_tui.core.workspace import Workspace

EXIT_OK = 0
EXIT_USER = 1
EXIT_CHANGES = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def state_path(args: argparse.Namespace) -> Path:
    return find_state_path(args.state)


def load(args: argparse.Namespace) -> LoadedState:
    return load_state(state_path(args))


def open_workspace(args: argparse.Namespace) -> Workspace:
    """Load the state and its recorded state; checks --operator if the command has it."""
    from fedi_tui.core.workspace import Workspace  # mapping and rendering: not for `set`

    workspace = Workspace.from_loaded(load(args))
    workspace.check_operator(getattr(args, "operator", None))
    return workspace
