"""Text from outside, made safe to show: control characters become visible escapes.

Anything a server, a remote command or a file sends may hold terminal escape
sequences (`ESC]0;…` retitles the terminal, `ESC[2K` erases a line, `ESC[8m`
hides text) or bidirectional overrides that reorder what is shown. Every such
text passes through `visible` before it reaches the CLI, the TUI, a log file
or an error message.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi
# embedding/override/isolate marks (U+202A–U+202E, U+2066–U+2069).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character (but tab and newline) shown as `\\xNN`."""
    return _UNSAFE.sub(_escape, text)


def visible_line(text: str) -> str:
    """Like `visible`, for one line: newlines and tabs are escaped too."""
    return _UNSAFE_LINE.sub(_escape, text)
