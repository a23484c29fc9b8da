"""Where an internal error's trace goes: a file under the user's state dir, not the screen."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime

from fedi_tui.core.userdirs import user_dirs


def save_crash_log(error: BaseException | None) -> str:
    """Write the trace to ~/.local/state/fedi-tui/crashes/; says where (or that it could not)."""
    crash_dir = user_dirs().state / "crashes"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        crash_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = crash_dir / f"tui-{stamp}.log"
        trace = traceback.format_exception(error) if error is not None else ["(no exception)"]
        log.write_text("".join(trace), encoding="utf-8")
    except OSError:
        return "The trace could not be saved."
    return f"The trace is in {log}."
