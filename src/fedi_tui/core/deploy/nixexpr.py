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


# --- reading back what `expr` wrote ---------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\$]|\\.|\$(?!\{))*")
    | (?P<number>-?\d+(?:\.\d+(?:e[+-]?\d+)?)?)
    | (?P<path>\.?(?:/[A-Za-z0-9._+-]+)+|<[A-Za-z0-9._+/-]+>)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_'-]*)
    | (?P<punct>\.\.\.|[{}\[\]=;.:,()])
    )""",
    re.VERBOSE,
)
_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


class _Reader:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"unexpected text at offset {pos}: {text[pos : pos + 20]!r}")
            kind = match.lastgroup or ""
            if kind != "comment":
                self.items.append((kind, match.group(kind), match.start(kind)))
            pos = match.end()
        self.i = 0

    def peek(self) -> tuple[str, str]:
        if self.i >= len(self.items):
            return ("end", "")
        kind, value, _ = self.items[self.i]
        return (kind, value)

    def take(self, expected: str | None = None) -> tuple[str, str]:
        kind, value = self.peek()
        if kind == "end" or (expected is not None and value != expected):
            raise ValueError(f"expected {expected or 'more'}, found {value or 'the end'!r}")
        self.i += 1
        return kind, value

    def value(self) -> object:
        kind, item = self.take()
        if kind == "string":
            return _unquote(item)
        if kind == "number":
            return float(item) if "." in item else int(item)
        if kind == "path":
            return Raw(item)
        if kind == "ident" and item in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[item]
        if item == "(":
            inner = self.value()
            self.take(")")
            return inner
        if item == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
            self.take("]")
            return items
        if item == "{":
            attrs: dict[str, object] = {}
            while self.peek()[1] != "}":
                path = [self.name()]
                while self.peek()[1] == ".":
                    self.take(".")
                    path.append(self.name())
                self.take("=")
                _set_path(attrs, path, self.value())
                self.take(";")
            self.take("}")
            return attrs
        raise ValueError(f"not a value written by fedi-tui: {item!r}")

    def name(self) -> str:
        kind, item = self.take()
        if kind == "ident":
            return item
        if kind == "string":
            return _unquote(item)
        raise ValueError(f"expected an attribute name, found {item!r}")


def _unquote(item: str) -> str:
    body = item[1:-1]
    return re.sub(r"\\(.)", lambda m: _UNESCAPES.get(m.group(1), m.group(1)), body)


def _set_path(attrs: dict[str, object], path: list[str], value: object) -> None:
    here = attrs
    for part in path[:-1]:
        nested = here.setdefault(part, {})
        if not isinstance(nested, dict):
            raise ValueError(f"{'.'.join(path)}: {part} is set twice")
        here = nested
    last = path[-1]
    if last in here:
        if not (isinstance(here[last], dict) and isinstance(value, dict)):
            raise ValueError(f"{'.'.join(path)} is set twice")
        for key, inner in value.items():
            _set_path(here[last], [key], inner)  # type: ignore[arg-type]
        return
    here[last] = value


def read_module(text: str) -> dict[str, object]:
    """The attribute set of a module file as `expr` writes it (`{ ... }:` then data).

    The inverse of `expr` for the text fedi-tui renders, so a check can look at what
    was actually written. Raises ValueError on anything else (function calls, `let`,
    interpolation): such a file was not written by `expr`.
    """
    reader = _Reader(text)
    if reader.peek()[1] == "{" and "..." in [t[1] for t in reader.items[:12]]:
        while reader.take()[1] != ":":  # the module's argument pattern
            pass
    value = reader.value()
    if reader.peek()[0] != "end":
        raise ValueError(f"unexpected {reader.peek()[1]!r} after the module")
    if not isinstance(value, dict):
        raise ValueError("a module is an attribute set")
    return value
