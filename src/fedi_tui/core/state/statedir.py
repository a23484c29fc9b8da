"""Where fedi-tui records what it did: `.fedi/` beside the state file, or provider.state_dir."""

from __future__ import annotations

from pathlib import Path

from fedi_tui.core.state.model import StateSpec


def state_dir(state_path: Path, spec: StateSpec) -> Path:
    configured = spec.provider.state_dir
    if configured is None:
        return state_path.parent / ".fedi"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else state_path.parent / path
