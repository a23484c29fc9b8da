"""Deployment log lines as people read them, and the filter `logs` and the log screen share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from fedi_tui.core.deploy.events import (
    LEVELS,
    Event,
    Level,
    LogLine,
    MachineFinished,
    RunFinished,
    RunStarted,
    StepFinished,
    StepPhase,
    StepStarted,
    TransferProgress,
)
from fedi_tui.core.errors import FediError

_MARK = {
    "done": "✓",
    "preflight-ok": "✓",
    "failed": "✗",
    "skipped": "-",
    "interrupted": "!",
    "rolled-back": "↺",
    "lost-contact": "↺",
}


@dataclass(frozen=True)
class LogRow:
    """One event as a line: when, which machine, how serious, what."""

    at: float
    machine: str
    level: Level
    text: str

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%H:%M:%S")

    def plain(self, width: int = 0) -> str:
        machine = self.machine.ljust(width) if width else self.machine
        return f"{self.time} {machine}  {self.text}" if machine else f"{self.time} {self.text}"


def describe(event: Event) -> str:
    """The text of an event (already redacted and made visible by the engine)."""
    if isinstance(event, LogLine):
        return f"| {event.text}" if event.stream != "info" else event.text
    if isinstance(event, StepStarted):
        return f"→ {event.description}"
    if isinstance(event, StepPhase):
        return f"  {event.phase}…"
    if isinstance(event, StepFinished):
        mark = _MARK.get(event.outcome, "?")
        took = f" in {event.seconds:.1f} s" if event.seconds else ""
        why = f": {event.message}" if event.message else ""
        return f"{mark} {event.step} {event.outcome}{took}{why}"
    if isinstance(event, MachineFinished):
        why = f" — {event.message}" if event.message else ""
        return f"machine {event.name}: {event.state}{why}"
    if isinstance(event, RunStarted):
        what = "preflight only" if event.preflight_only else event.summary
        started = f"deployment {event.deployment} started by {event.user}: {what}"
        return f"SANDBOX (nothing here is real) — {started}" if event.sandbox else started
    if isinstance(event, RunFinished):
        return f"deployment {event.deployment} {event.outcome}: {event.message}"
    if isinstance(event, TransferProgress):
        return describe_transfer(event)
    return type(event).__name__


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def describe_transfer(event: TransferProgress) -> str:
    """`objects coop-mastodon: 120/400 objects, 3.2/9.0 MiB, 1.1 MiB/s, 40 objects/s`."""
    parts = []
    if event.part == "objects" or event.total_objects or event.objects:
        of = f"/{event.total_objects}" if event.total_objects else ""
        parts.append(f"{event.objects}{of} {'objects' if event.part == 'objects' else 'files'}")
    of = f"/{_size(event.total_bytes)}" if event.total_bytes else ""
    parts.append(f"{_size(event.bytes)}{of}")
    if event.seconds > 0:
        parts.append(f"{_size(event.bytes_per_second)}/s")
        if event.part == "objects":
            parts.append(f"{event.objects_per_second:.0f} objects/s")
    if event.skipped:
        parts.append(f"{event.skipped} verified before, skipped")
    done = " done" if event.final else ""
    return f"{event.part} {event.what}{done}: " + ", ".join(parts)


def row(event: Event) -> LogRow:
    return LogRow(event.at, event.machine or "", event.level, describe(event))


@dataclass(frozen=True)
class LogFilter:
    """Which lines to show: a regex (or its inverse), one machine, a lowest level."""

    pattern: re.Pattern[str] | None = None
    invert: bool = False
    machine: str | None = None
    level: Level = "debug"

    @classmethod
    def make(
        cls,
        regex: str | None = None,
        *,
        invert: bool = False,
        machine: str | None = None,
        level: str = "debug",
    ) -> LogFilter:
        """Build a filter from user input (FediError naming what is wrong)."""
        pattern = None
        if regex:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise FediError(f"--grep {regex!r}: not a regular expression ({exc})") from None
        if level not in LEVELS:
            raise FediError(f"--level {level!r}: expected one of {', '.join(LEVELS)}")
        return cls(pattern, invert, machine, level)

    def keeps(self, r: LogRow) -> bool:
        if self.machine is not None and r.machine != self.machine:
            return False
        if LEVELS.index(r.level) < LEVELS.index(self.level):
            return False
        if self.pattern is not None:
            found = self.pattern.search(r.text) is not None
            return found != self.invert
        return True
