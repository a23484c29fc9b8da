"""What the App keeps beside the state file: the recorded state, the deployment history,
and the one Workspace made from them (imported after the first frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedi_tui.core.deploy.history import HistoryIndex, load_index
from fedi_tui.core.deploy.recorded import RecordedState, load_recorded
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.statedir import state_dir
from fedi_tui.core.workspace import Workspace

if TYPE_CHECKING:
    from fedi_tui.tui.app import FediApp

Records = tuple[RecordedState | FediError, HistoryIndex | FediError]
"""The recorded state and the history, or why each is unreadable."""


def read_records(loaded: LoadedState) -> Records:
    """What fedi-tui recorded as done beside this state file and the deployment history."""
    directory = state_dir(loaded.path, loaded.spec)
    recorded: RecordedState | FediError
    history: HistoryIndex | FediError
    try:
        recorded = load_recorded(directory)
    except FediError as error:
        recorded = error
    try:
        history = load_index(directory)
    except FediError as error:
        history = error
    return recorded, history


def set_records(app: FediApp, records: Records) -> None:
    """Show what was read (an unreadable file is said once, as an error notification);
    an unchanged value is not set again, so nothing redraws for nothing."""
    recorded, history = records
    if isinstance(recorded, FediError):
        app.notify(str(recorded), title="Recorded state", severity="error", timeout=10)
        app.recorded = None
    elif app.recorded is None or recorded != app.recorded:
        app.recorded = recorded
    if isinstance(history, FediError):
        app.notify(str(history), title="Deployment history", severity="error", timeout=10)
        app.history = None
    elif app.history is None or history != app.history:
        app.history = history


class WorkspaceCache:
    """The Workspace of the state and recorded state shown, made once per change (its
    mapping and rendering are computed once). Safe to ask from a thread."""

    def __init__(self) -> None:
        self._made: Workspace | None = None

    def get(self, loaded: LoadedState, recorded: RecordedState | None) -> Workspace:
        made = self._made
        if made is not None and made.loaded is loaded and made.recorded is recorded:
            return made
        made = (
            Workspace(loaded, recorded) if recorded is not None else Workspace.from_loaded(loaded)
        )
        self._made = made
        return made
