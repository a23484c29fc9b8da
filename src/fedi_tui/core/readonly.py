"""Read-only mode in the core: once switched on, this process writes nothing.

`fedi-tui --read-only` (or `read_only = true` in the user settings) is for
support staff. The TUI leaves every mutating action out, and the core refuses
the writes themselves too, so no path — a palette entry, a key, a bug — can
change the state file, the recorded state or start a deployment. Reading
(plans, configurations, logs, history) is untouched.

The switch is one-way for the life of the process: nothing turns it off.
"""

from __future__ import annotations

from fedi_tui.core.errors import FediError


class ReadOnlyRefused(FediError):
    """A write was asked for while the process runs read-only."""


_read_only = False


def enter_read_only() -> None:
    """From now on, every write path of the core refuses (`refuse_writes`)."""
    global _read_only
    _read_only = True


def is_read_only() -> bool:
    return _read_only


def refuse_writes(what: str) -> None:
    """Raise ReadOnlyRefused when read-only; `what` says what was refused ('save fedi.toml')."""
    if _read_only:
        raise ReadOnlyRefused(
            f"read-only session: refused to {what}; start fedi-tui without --read-only "
            "(and without read_only = true in the user settings) to change anything"
        )
