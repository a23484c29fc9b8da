"""Redaction: every secret value known to a run is cut out of text before anyone sees it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fedi_tui.core.text import visible

MASK = "[redacted]"


class Redactor:
    """Replaces known secret values with `[redacted]` and makes control characters visible."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: str) -> None:
        new = {v for v in values if v and v not in self._values}
        if new:
            self._values |= new
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return visible(text)
