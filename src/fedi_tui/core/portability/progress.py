"""Progress of a data transfer, as `TransferProgress` events on the one event stream.

A `Meter` counts bytes and objects as they move and emits an event at most every
`interval` seconds, plus a final one (`finish`), so a fast copy does not flood the
log while a slow one still shows it is alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fedi_tui.core.deploy.events import EventSink, TransferPart, TransferProgress


@dataclass
class Meter:
    """`Meter(emit, deployment=…, step=…, part="objects", what="coop-mastodon")`."""

    emit: EventSink | None
    deployment: str
    step: str
    part: TransferPart
    what: str
    machine: str | None = None
    total_bytes: int = 0
    total_objects: int = 0
    interval: float = 0.5
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    bytes: int = 0
    objects: int = 0
    skipped: int = 0
    _start: float = field(default=0.0, init=False)
    _last: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._start = self._last = self.clock()

    @property
    def seconds(self) -> float:
        return self.clock() - self._start

    def add(self, nbytes: int = 0, objects: int = 0) -> None:
        self.bytes += nbytes
        self.objects += objects
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self._send(final=False)

    def skip(self, objects: int = 1, nbytes: int = 0) -> None:
        """Objects found verified before: counted towards the totals only."""
        self.skipped += objects
        self.total_objects = max(0, self.total_objects - objects)
        self.total_bytes = max(0, self.total_bytes - nbytes)

    def finish(self) -> TransferProgress:
        return self._send(final=True)

    def _send(self, *, final: bool) -> TransferProgress:
        event = TransferProgress(
            deployment=self.deployment,
            at=self.wall(),
            step=self.step,
            target_machine=self.machine,
            part=self.part,
            what=self.what,
            bytes=self.bytes,
            objects=self.objects,
            total_bytes=self.total_bytes,
            total_objects=self.total_objects,
            skipped=self.skipped,
            seconds=round(self.seconds, 3),
            final=final,
        )
        if self.emit is not None:
            self.emit(event)
        return event
