"""The state file is watched: changed on disk (by an editor, `fedi-tui set`, another
session), it is read again, so a support session always shows the current state.

A timer on the App compares the file's (inode, size, mtime) every `POLL`
seconds — no new dependency, and a rename over the file (an atomic save)
counts as a change; reading and validating it runs in a job. A change whose
bytes are what the App already shows (its own save) is ignored. An invalid
file is not taken: its problems are shown and the last good state stays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedi_tui.tui.app import FediApp

POLL = 0.5
"""Seconds between two looks at the file."""

Signature = tuple[int, int, int] | None


def signature(path: Path) -> Signature:
    """(inode, size, mtime in ns) of the file; None when it is not there."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class StateFileWatch:
    """Looks at the App's state file every `poll` seconds (one `stat`, on a timer: cheap
    enough for the App's thread, and no worker that never ends); reads it in a job."""

    def __init__(self, app: FediApp, *, poll: float = POLL) -> None:
        self.app = app
        self.last = signature(app.path)
        self.timer = app.set_interval(poll, self.look, name="watch the state file")

    def look(self) -> None:
        now = signature(self.app.path)
        if now != self.last:
            self.last = now
            self.changed()

    def changed(self) -> None:
        """The file changed on disk: read it again behind the screen, unless it is ours."""
        app = self.app
        if any(app.unsaved.values()):
            app.notify(
                f"{app.path.name} changed on disk. Your edits are not saved; saving will ask "
                "what to do (or reload it from the palette).",
                title="Changed on disk",
                severity="warning",
                timeout=10,
            )
            return
        shown = app.state.digest
        app.start_job(
            lambda: _read(app, shown),
            name=f"read {app.path.name} again",
            group="state",
            done=lambda result: _reloaded(app, result),
        )


def _read(app: FediApp, shown: str) -> object:
    """In a job: the new state with its records, None if it is what is shown, or the error."""
    from fedi_tui.core.errors import FediError
    from fedi_tui.core.state.file import load_state

    path = app.path
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() == shown:
            return None  # what we show (our own save, or a touch)
        loaded = load_state(path)
    except OSError as exc:
        return FediError(f"{path} cannot be read now ({exc.strerror})")
    except FediError as error:
        return error
    return loaded, app._read_recorded(loaded)


def _reloaded(app: FediApp, result: object) -> None:
    from fedi_tui.core.errors import FediError, InvalidState

    if result is None:
        return
    if isinstance(result, InvalidState):
        problems = "\n".join(p.format(result.path.name) for p in result.problems[:5])
        more = len(result.problems) - 5
        tail = f"\n… and {more} more (`fedi-tui validate`)" if more > 0 else ""
        app.notify(
            f"{problems}{tail}\nStill showing the last valid version.",
            title=f"{app.path.name} changed on disk and is not valid",
            severity="error",
            timeout=15,
        )
        return
    if isinstance(result, FediError):
        app.notify(
            f"{result}; still showing the last version read.",
            title="State file",
            severity="error",
        )
        return
    assert isinstance(result, tuple)
    loaded, records = result
    app._set_recorded(records)
    app.state = loaded
    app.notify(f"Reloaded {app.path.name}: it changed on disk.", title="Reloaded")
