"""Where keys are in a TOML text, for error messages.

`tomllib` and `tomlkit` do not report positions, so this small scanner walks a
text that `tomllib` has already accepted and records, for every key path, the
line and column where it is defined. It trusts the text to be valid TOML.
It runs only when there is a problem to report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

Path_ = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_WS = " \t"


@dataclass
class Positions:
    """Line/column (1-based) of every key and header in a document."""

    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> tuple[int, int]:
        """Position of `path`, or of its closest located ancestor; (0, 0) if none."""
        for n in range(len(path), 0, -1):
            pos = self.keys.get(path[:n])
            if pos is not None:
                return pos
        return (0, 0)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line_starts = [0]
        for n, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(n + 1)
        self.out = Positions()
        self.array_counts: dict[Path_, int] = {}

    def linecol(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def skip_ws(self) -> None:
        while self.peek() and self.peek() in _WS:
            self.i += 1

    def skip_ws_nl_comments(self) -> None:
        while True:
            ch = self.peek()
            if ch and ch in " \t\r\n":
                self.i += 1
            elif ch == "#":
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        while self.peek() and self.peek() != "\n":
            self.i += 1

    def read_string(self) -> str:
        """Consume any TOML string starting at self.i and return its raw text."""
        s, start = self.s, self.i
        for quote in ('"""', "'''"):
            if s.startswith(quote, start):
                j = start + 3
                while True:
                    j = s.index(quote, j)
                    if quote == '"""':
                        backslashes = 0
                        k = j - 1
                        while s[k] == "\\":
                            backslashes += 1
                            k -= 1
                        if backslashes % 2:
                            j += 1
                            continue
                    # up to two extra quotes may close the string ("""a"""")
                    while s.startswith(quote[0], j + 3) and j + 3 < len(s):
                        j += 1
                    self.i = j + 3
                    return s[start : self.i]
        q = s[start]
        j = start + 1
        while s[j] != q:
            j += 2 if (q == '"' and s[j] == "\\") else 1
        self.i = j + 1
        return s[start : self.i]

    def read_key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch in "\"'":
                raw = self.read_string()
                parts.append(str(next(iter(tomllib.loads(f"{raw} = 0")))))
            else:
                j = self.i
                while self.peek() and self.peek() in _BARE:
                    self.i += 1
                parts.append(self.s[j : self.i])
            self.skip_ws()
            if self.peek() == ".":
                self.i += 1
                continue
            return parts

    def read_value(self, path: Path_) -> None:
        ch = self.peek()
        if ch in "\"'":
            self.read_string()
        elif ch == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_ws_nl_comments()
                if self.peek() == "]":
                    self.i += 1
                    return
                self.out.keys.setdefault((*path, index), self.linecol(self.i))
                self.read_value((*path, index))
                index += 1
                self.skip_ws_nl_comments()
                if self.peek() == ",":
                    self.i += 1
        elif ch == "{":
            self.i += 1
            while True:
                self.skip_ws()
                if self.peek() == "}":
                    self.i += 1
                    return
                self.read_keyval(path)
                self.skip_ws()
                if self.peek() == ",":
                    self.i += 1
        else:
            while (
                self.peek()
                and self.peek() not in ",]}#\r\n"
                and not (self.peek() in _WS and not self._inside_datetime())
            ):
                self.i += 1

    def _inside_datetime(self) -> bool:
        # "1979-05-27 07:32:00" has one space between date and time
        before = self.s[max(0, self.i - 10) : self.i]
        after = self.s[self.i + 1 : self.i + 3]
        return len(before) == 10 and before[4] == "-" and before[7] == "-" and after.isdigit()

    def read_keyval(self, table: Path_) -> None:
        at = self.linecol(self.i)
        parts = self.read_key()
        path = (*table, *parts)
        for n in range(len(table) + 1, len(path) + 1):
            self.out.keys.setdefault(path[:n], at)
        self.skip_ws()
        self.i += 1  # '='
        self.skip_ws()
        self.read_value(path)

    def header(self) -> tuple[Path_, bool]:
        start = self.i
        is_array = self.s.startswith("[[", start)
        self.i += 2 if is_array else 1
        parts = self.read_key()
        self.i += 2 if is_array else 1
        path: Path_ = tuple(parts)
        if is_array:
            # [[a.b]] after [[a]] is a new element of a[last].b: count per indexed parent
            array = (*self._index_arrays(path[:-1]), path[-1])
            n = self.array_counts.get(array, 0)
            self.array_counts[array] = n + 1
            path = (*array, n)
        else:
            path = self._index_arrays(path)
        at = self.linecol(start)
        for n in range(1, len(path) + 1):
            self.out.keys.setdefault(path[:n], at)
        return path, is_array

    def _index_arrays(self, path: Path_) -> Path_:
        """[fruit.variety] after [[fruit]] means fruit[last].variety."""
        out: list[str | int] = []
        for part in path:
            out.append(part)
            count = self.array_counts.get(tuple(out))
            if count is not None:
                out.append(count - 1)
        return tuple(out)

    def run(self) -> Positions:
        table: Path_ = ()
        while True:
            self.skip_ws_nl_comments()
            if self.i >= len(self.s):
                return self.out
            if self.peek() == "[":
                table, _ = self.header()
            else:
                self.read_keyval(table)


def scan(text: str) -> Positions:
    """Positions of all keys and sections of a valid TOML text."""
    return _Scanner(text).run()
