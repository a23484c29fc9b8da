"""What changed between two texts, line by line (for tests of minimal edits)."""

from __future__ import annotations

import difflib


def changed_lines(before: str, after: str) -> list[str]:
    """The '-old' and '+new' lines of a diff without context."""
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
