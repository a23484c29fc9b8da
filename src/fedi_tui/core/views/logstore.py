"""A deployment log as a viewer needs it: indexed, tailed, filtered over every line.

`LogStore` reads a run's JSON-lines log (`core/deploy/history.py`) and keeps,
per line, only small columns: the byte offset of the event in the log, its
time, machine and level. The text people read (`views.logs.describe`, with
control characters made visible) goes into an unnamed temporary file beside
them, so memory stays bounded for millions of lines: a screen reads back the
few lines it shows (with a small cache), and a filter scans that text file
once, in chunks, with one compiled regex.

One thread may `poll()` (append what the log grew by) while others read: a
line is published (counted in `len()`) only once all its columns are written.
Output lines (`LogLine`, nearly all of a log) are indexed from their JSON
fields without making an event object: about 4 µs a line.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import tempfile
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, get_args

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.deploy.events import (
    LEVELS,
    Event,
    LineStream,
    LogLine,
    RunFinished,
    RunStarted,
    event_from_json,
)
from fedi_tui.core.deploy.history import process_alive
from fedi_tui.core.text import visible_line
from fedi_tui.core.views.logs import LogFilter, LogRow, describe

READ_CHUNK = 1 << 20
"""Bytes read from the log per step of `poll`."""
SCAN_LINES = 65536
"""Lines of text decoded at a time by a filter scan (bounds its memory)."""
_ERROR = LEVELS.index("error")
_WARNING = LEVELS.index("warning")
_DECODER = json.JSONDecoder()


def _line_columns() -> tuple[dict[str, int], dict[str, str]]:
    """Level and text prefix of a LogLine per stream, taken from LogLine and describe
    themselves, so the fast path of `_ingest` cannot drift from them."""
    levels, prefixes = {}, {}
    for stream in get_args(LineStream):
        sample = LogLine(deployment="", at=0.0, step="", stream=stream, text="")
        levels[stream] = LEVELS.index(sample.level)
        prefixes[stream] = describe(sample)
    return levels, prefixes


_LINE_LEVEL, _LINE_PREFIX = _line_columns()


@dataclass(frozen=True)
class Ingested:
    """What one `poll` added: lines [start, stop)."""

    start: int
    stop: int

    def __bool__(self) -> bool:
        return self.stop > self.start


class LogStore:
    """The lines of one deployment log, growing as the log grows (see module doc)."""

    def __init__(self, path: Path, *, cache_lines: int = 1024) -> None:
        self.path = path
        self.outcome: str | None = None
        """How the run ended, once its RunFinished line was read."""
        self.writer_pid: int | None = None
        """The process writing the log (from its RunStarted line)."""
        self.machines: list[str] = [""]
        """Machine names in order of first appearance; index 0 is "no machine"."""
        self._machine_ids: dict[str, int] = {"": 0}
        self._offsets = array("q")  # byte offset of each line in the log
        self._at = array("d")
        self._machine = array("H")
        self._level = array("B")
        self._text_off = array("q", [0])  # line i's text is [text_off[i], text_off[i+1]-1)
        self._count = 0
        self._read_pos = 0
        self._pending = b""
        self._text = tempfile.TemporaryFile(prefix="fedi-log-")  # noqa: SIM115 - closed in close()
        self._text_fd = self._text.fileno()
        self._cache: OrderedDict[int, LogRow] = OrderedDict()
        self._cache_lines = cache_lines
        self._poll_lock = threading.Lock()
        self._log: BinaryIO | None = None
        self._closed = False

    # --- reading the log ----------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def growing(self) -> bool:
        """Whether more lines may come: the run has not finished and its process still
        runs (or the log has not said which process that is)."""
        if self.outcome is not None:
            return False
        pid = self.writer_pid
        return pid is None or pid <= 0 or process_alive(pid)

    def poll(self, max_bytes: int = READ_CHUNK) -> Ingested:
        """Index the complete lines the log grew by (about `max_bytes` of it at most,
        more only to complete a longer line).

        A last line without its newline is kept back until it is complete.
        A log that does not exist yet has no lines.
        """
        with self._poll_lock:
            start = self._count
            f = self._open()
            while f is not None:
                chunk = f.read(max_bytes)
                if not chunk:
                    break
                self._read_pos += len(chunk)
                data = self._pending + chunk
                cut = data.rfind(b"\n") + 1
                self._pending = data[cut:]
                if cut:
                    self._ingest(data[:cut], self._read_pos - len(data))
                    break
                if len(chunk) < max_bytes:
                    break
            return Ingested(start, self._count)

    def _open(self) -> BinaryIO | None:
        if self._closed:
            return None
        if self._log is None:
            try:
                self._log = self.path.open("rb")
            except FileNotFoundError:
                return None
        return self._log

    def read_all(self) -> int:
        """Index everything written so far; the number of lines."""
        while self.poll():
            pass
        return self._count

    def _ingest(self, data: bytes, base: int) -> None:
        ids = self._machine_ids
        offsets: list[int] = []
        ats: list[float] = []
        machines: list[int] = []
        levels: list[int] = []
        texts: list[str] = []
        pos = base
        n = self._count
        decode = _DECODER.raw_decode
        for raw in data.decode("utf-8", "surrogateescape").split("\n")[:-1]:
            n += 1
            offsets.append(pos)
            pos += (len(raw) if raw.isascii() else len(raw.encode("utf-8", "surrogateescape"))) + 1
            try:
                fields, end = decode(raw)
                if end != len(raw) and raw[end:].strip():
                    raise ValueError("more than one JSON value")
                kind = fields.get("type") if isinstance(fields, dict) else None
                if kind == "LogLine":  # nearly every line: no event object needed
                    stream = fields["stream"]
                    name = fields.get("target_machine") or ""
                    level = _LINE_LEVEL[stream]
                    text = _LINE_PREFIX[stream] + fields["text"]
                    at = float(fields["at"])
                    if not isinstance(name, str):
                        raise TypeError("target_machine is not a string")
                else:
                    event = event_from_json(raw)
                    name = event.machine or ""
                    level = LEVELS.index(event.level)
                    text = describe(event)
                    at = event.at
                    if isinstance(event, RunFinished):
                        self.outcome = event.outcome
                    elif isinstance(event, RunStarted):
                        self.writer_pid = event.pid
            except (ValueError, TypeError, KeyError, AttributeError):
                name, level, at = "", _WARNING, 0.0
                shown = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                text = f"{self.path.name}:{n}: not a deployment event: {shown[:300]}"
            mid = ids.get(name)
            if mid is None:
                mid = ids[name] = len(self.machines)
                self.machines.append(name)
            ats.append(at)
            machines.append(mid)
            levels.append(level)
            texts.append(visible_line(text))
        end = self._text_off[-1]
        os.pwrite(self._text_fd, ("\n".join(texts) + "\n").encode("utf-8", "replace"), end)
        ends = []
        for t in texts:  # where each line's text ends in the text file
            end += (len(t) if t.isascii() else len(t.encode("utf-8", "replace"))) + 1
            ends.append(end)
        self._offsets.extend(offsets)
        self._at.extend(ats)
        self._machine.extend(machines)
        self._level.extend(levels)
        self._text_off.extend(ends)
        self._count = n  # published: every column of these lines is written

    # --- lines --------------------------------------------------------------------

    def text(self, i: int) -> str:
        """The shown text of line i."""
        a, b = self._text_off[i], self._text_off[i + 1] - 1
        return os.pread(self._text_fd, b - a, a).decode("utf-8", "replace")

    def row(self, i: int) -> LogRow:
        """Line i as a row (read back from the text file; recent rows are cached)."""
        if not 0 <= i < self._count:
            raise IndexError(i)
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        made = LogRow(
            self._at[i],
            self.machines[self._machine[i]],
            LEVELS[self._level[i]],
            self.text(i),
        )
        self._cache[i] = made
        if len(self._cache) > self._cache_lines:
            self._cache.popitem(last=False)
        return made

    def event(self, i: int) -> Event:
        """The event of line i as written in the log (ValueError if that line is not one)."""
        with self.path.open("rb") as f:
            f.seek(self._offsets[i])
            return event_from_json(f.readline().decode("utf-8"))

    @property
    def cached_rows(self) -> int:
        return len(self._cache)

    def machine_width(self) -> int:
        return min(24, max((len(m) for m in self.machines), default=0))

    def _texts(self, start: int, stop: int) -> Iterator[tuple[int, list[str]]]:
        """(first line, texts) of lines [start, stop), SCAN_LINES at a time."""
        off = self._text_off
        for a in range(start, stop, SCAN_LINES):
            b = min(stop, a + SCAN_LINES)
            blob = os.pread(self._text_fd, off[b] - off[a], off[a])
            yield a, blob.decode("utf-8", "replace").split("\n")[: b - a]

    # --- filter, search, save ---------------------------------------------------------

    def select(self, keep: LogFilter, start: int = 0, stop: int | None = None) -> list[int]:
        """Indices of the lines in [start, stop) that `keep` keeps — over the whole log."""
        stop = self._count if stop is None else min(stop, self._count)
        if start >= stop:
            return []
        mid = None if keep.machine is None else self._machine_ids.get(keep.machine, -1)
        if mid == -1:
            return []
        lowest = LEVELS.index(keep.level)
        machines, levels = self._machine, self._level
        if keep.pattern is None:
            if mid is None and lowest == 0:
                return list(range(start, stop))
            return [
                i
                for i in range(start, stop)
                if levels[i] >= lowest and (mid is None or machines[i] == mid)
            ]
        search, invert = keep.pattern.search, keep.invert
        out: list[int] = []
        for a, texts in self._texts(start, stop):
            if mid is None and lowest == 0:
                if invert:
                    out += [i for i, t in enumerate(texts, a) if search(t) is None]
                else:
                    out += [i for i, t in enumerate(texts, a) if search(t) is not None]
            else:
                out += [
                    i
                    for i, t in enumerate(texts, a)
                    if levels[i] >= lowest
                    and (mid is None or machines[i] == mid)
                    and (search(t) is None) == invert
                ]
        return out

    def hits(self, pattern: re.Pattern[str], view: Sequence[int] | None) -> list[int]:
        """Positions in `view` (None: every line) whose text `pattern` finds, in order."""
        if view is None:
            return self.select(LogFilter(pattern))
        if not view:
            return []
        found = set(self.select(LogFilter(pattern), view[0], view[-1] + 1))
        return [p for p, i in enumerate(view) if i in found]

    def first_error(self, view: Sequence[int] | None) -> int | None:
        """Position in `view` of the first error line, or None."""
        levels = self._level
        lines: Sequence[int] = range(self._count) if view is None else view
        for p, i in enumerate(lines):
            if levels[i] >= _ERROR:
                return p
        return None

    def plain_lines(self, view: Sequence[int] | None) -> Iterator[str]:
        """The lines of `view` as `logs` prints them (time, machine, text)."""
        width = self.machine_width()
        wanted = None if view is None else set(view)
        stop = self._count if view is None else (view[-1] + 1 if view else 0)
        at, machine, level = self._at, self._machine, self._level
        for a, texts in self._texts(0, stop):
            for i, t in enumerate(texts, a):
                if wanted is None or i in wanted:
                    yield LogRow(at[i], self.machines[machine[i]], LEVELS[level[i]], t).plain(width)

    def save(self, path: Path, view: Sequence[int] | None) -> int:
        """Write the lines of `view` to `path` (atomically); the number written."""
        lines = list(self.plain_lines(view))
        body = "".join(f"{line}\n" for line in lines)
        write_atomic(path, body.encode("utf-8"), mode=0o600)
        return len(lines)

    def close(self) -> None:
        with self._poll_lock:
            self._closed = True
            self._text.close()
            if self._log is not None:
                self._log.close()


def step(hits: Sequence[int], current: int | None, *, forward: bool) -> tuple[int | None, bool]:
    """The next (or previous) hit from `current`, wrapping around: (position, wrapped)."""
    if not hits:
        return None, False
    if current is None:
        return (hits[0], False) if forward else (hits[-1], False)
    if forward:
        k = bisect.bisect_right(hits, current)
        return (hits[k], False) if k < len(hits) else (hits[0], True)
    k = bisect.bisect_left(hits, current) - 1
    return (hits[k], False) if k >= 0 else (hits[-1], True)
