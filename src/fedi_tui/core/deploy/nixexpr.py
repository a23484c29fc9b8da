"""Write Python values as Nix: escaped, deterministic, two-space indented.

This is the only place Nix text is produced from data. Every string goes
through `string()`, so a value can never change the structure of a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
_KEYWORDS = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Raw:
    """A Nix expression written as is: only for fixed text from fedi-tui's own code."""

    code: str


def string(value: str) -> str:
    """A double-quoted Nix string that evaluates to exactly `value`."""
    if "\0" in value:
        raise ValueError("Nix strings cannot hold NUL characters")
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "$" and value.startswith("${", i):
            out.append("\\${")
            i += 2
            continue
        out.append(_ESCAPES.get(ch, ch))
        i += 1
    return '"' + "".join(out) + '"'


def attr_name(name: str) -> str:
    """An attribute name, quoted unless it is a plain identifier."""
    if _IDENT.fullmatch(name) and name not in _KEYWORDS:
        return name
    return string(name)


def expr(value: object, indent: int = 0) -> str:
    """Nix text for a value; nested sets and lists one item per line."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"({value})"
    if isinstance(value, float):
        text = repr(value)
        if not re.fullmatch(r"-?\d+\.\d+(e[+-]?\d+)?", text):
            raise ValueError(f"Nix cannot represent the number {text}")
        return text if value >= 0 else f"({text})"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Raw):
        return value.code
    if isinstance(value, Mapping):
        if not value:
            return "{ }"
        lines = [f"{pad}{attr_path(k)} = {expr(v, indent + 1)};" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{end}}}"
    if isinstance(value, Sequence):
        if not value:
            return "[ ]"
        items = [f"{pad}{_list_item(v, indent + 1)}" for v in value]
        return "[\n" + "\n".join(items) + f"\n{end}]"
    raise TypeError(f"no Nix form for {type(value).__name__}")


def attr_path(key: str | tuple[str, ...]) -> str:
    """`a.b."c d"` from a key or a tuple of keys."""
    parts = (key,) if isinstance(key, str) else key
    return ".".join(attr_name(p) for p in parts)


def _list_item(value: object, indent: int) -> str:
    text = expr(value, indent)
    # function applications and negative numbers need parentheses inside a list
    if (
        isinstance(value, Raw)
        and " " in value.code
        and not value.code.startswith(("(", "[", "{", '"'))
    ):
        return f"({text})"
    return text
