"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.errors import FediError
from fedi_tui.core.recorded import RecordedState, load_recorded
from fedi_tui.core.statedir import state_dir
from fedi_tui.core.statefile import LoadedState, find_state_path, load_state
from fedi_tui.core.statemodel import StateSpec

EXIT_OK = 0
EXIT_USER = 1
EXIT_CHANGES = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def state_path(args: argparse.Namespace) -> Path:
    return find_state_path(args.state)


def load(args: argparse.Namespace) -> LoadedState:
    return load_state(state_path(args))


def check_operator(spec: StateSpec, operator: str | None) -> None:
    """Refuse an --operator that names no operator."""
    if operator is not None and operator not in spec.operators:
        known = ", ".join(spec.operators) or "none"
        raise FediError(f"--operator {operator}: no such operator; known: {known}")


@dataclass(frozen=True)
class Deployment:
    """The state file, where its records live, and what was recorded as done."""

    loaded: LoadedState
    state_dir: Path
    recorded: RecordedState


def load_deployment(args: argparse.Namespace) -> Deployment:
    """Load the state and its recorded state; checks --operator if the command has it."""
    loaded = load(args)
    check_operator(loaded.spec, getattr(args, "operator", None))
    where = state_dir(loaded.path, loaded.spec)
    return Deployment(loaded, where, load_recorded(where))
