"""How the App shows a failed job: what happened and what to do, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fedi_tui.core.errors import FediError, InvalidState, LockHeld, StateConflict
from fedi_tui.tui import messages
from fedi_tui.tui.crashlog import save_crash_log
from fedi_tui.tui.screens.modals import ConfirmModal, MessageModal

if TYPE_CHECKING:
    from textual.app import App


def show_error(app: App[Any], error: BaseException | None, doing: str) -> None:
    if isinstance(error, StateConflict):
        body = f"{error}\n\nReload the file now? Unsaved edits here are dropped."
        modal = ConfirmModal("The file changed on disk", body, yes="Reload", no="Keep editing")

        def answer(reload: bool | None) -> None:
            if reload:
                app.post_message(messages.ReloadState())

        app.push_screen(modal, answer)
    elif isinstance(error, InvalidState):
        problems = "\n".join(p.format(error.path) for p in error.problems)
        body = f"{problems}\n\nNothing was written. Correct the values and save again."
        app.push_screen(MessageModal(f"Not saved: {doing}", body))
    elif isinstance(error, LockHeld):
        app.notify(f"{error}. Try again in a moment.", title=f"{doing}: busy", severity="error")
    elif isinstance(error, FediError):
        app.notify(str(error), title=f"{doing} failed", severity="error", timeout=10)
    else:
        where = save_crash_log(error)
        body = (
            f"{doing} failed with an internal error "
            f"({type(error).__name__}). {where}\nPlease report it. Nothing else was changed."
        )
        app.push_screen(MessageModal("Internal error", body))
