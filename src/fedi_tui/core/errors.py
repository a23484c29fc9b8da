"""Errors the user can act on. Each one says where, what was expected and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class FediError(Exception):
    """An error caused by input or circumstances, shown to the user without a traceback."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a state file, located as precisely as the text allows."""

    line: int
    col: int
    key: str
    message: str

    def format(self, path: Path | str) -> str:
        where = f"{path}:{self.line}:{self.col}" if self.line else f"{path}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InvalidState(FediError):
    """The state file does not parse or does not validate; carries every problem found."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format(path) for p in self.problems))


class StateConflict(FediError):
    """The file changed on disk after it was loaded; saving would overwrite someone's edit."""


class LockHeld(FediError):
    """Another process holds the state lock for longer than we are willing to wait."""


class SchemaTooNew(FediError):
    """The file declares a schema version this program does not know."""
