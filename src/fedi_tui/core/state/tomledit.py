"""Apply key-level edits to a TOML text, keeping everything else byte for byte.

tomlkit keeps comments and layout, but parsing a whole large file with it costs
about ten times a `tomllib` parse. So an edit is applied with tomlkit to the one
`[table]` section it touches, and the section is spliced back into the text.
The result is always checked: if `tomllib` does not read back exactly the
expected data, the edit is redone on the whole document with tomlkit.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, InlineTable, Item, Table, Trivia

Key = tuple[str, ...]


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()
"""Value of an `Edit` that removes the key."""


class _CommentOut:
    def __repr__(self) -> str:
        return "COMMENT_OUT"


COMMENT_OUT: Any = _CommentOut()
"""Value of an `Edit` that removes a key by turning its line into a comment (`# key = …`),
keeping the line's own comment: for a value a person may want back (a replaced ca_file).
In a table that is not a section of its own, the key is removed like DELETE."""


@dataclass(frozen=True)
class Edit:
    """Set `path` to `value` (a plain TOML value), or remove it when value is DELETE."""

    path: Key
    value: Any


def edits_between(old: Mapping[str, Any], new: Mapping[str, Any], at: Key = ()) -> list[Edit]:
    """The smallest key-level edits that turn data `old` into `new`."""
    edits = [Edit((*at, k), DELETE) for k in old if k not in new]
    for k, value in new.items():
        if k not in old:
            edits.append(Edit((*at, k), value))
        elif isinstance(value, dict) and isinstance(old[k], dict):
            edits += edits_between(old[k], value, (*at, k))
        elif type(value) is not type(old[k]) or value != old[k]:
            edits.append(Edit((*at, k), value))
    return edits


def apply_to_data(data: dict[str, Any], edits: Iterable[Edit]) -> dict[str, Any]:
    """The plain data after the edits, creating tables on the way.

    `data` is not modified: tables along each edited path are copied, the rest shared.
    """
    out = dict(data)
    for edit in edits:
        node = out
        for part in edit.path[:-1]:
            nxt = node.get(part, {})
            if not isinstance(nxt, dict):
                raise KeyError(f"{'.'.join(edit.path)}: {part} is a value, not a table")
            node[part] = nxt = dict(nxt)
            node = nxt
        if edit.value is DELETE or edit.value is COMMENT_OUT:
            node.pop(edit.path[-1], None)
        else:
            node[edit.path[-1]] = copy.deepcopy(edit.value)
    return out


def apply_edits(text: str, edits: list[Edit], expected: dict[str, Any]) -> str:
    """Text with the edits applied; `expected` is what tomllib must read from it."""
    if not edits:
        return text
    new: str | None = text
    for edit in edits:
        new = _apply_to_section(new, edit) if new is not None else None
    if new is not None and _reads_as(new, expected):
        return new
    doc = tomlkit.parse(text)
    for edit in edits:
        _apply_to_container(doc, edit.path, edit.value)
    result = doc.as_string()
    if not _reads_as(result, expected):  # pragma: no cover - a tomlkit bug
        raise ValueError("the edited file would not read back as intended; nothing was written")
    return result


def _reads_as(text: str, expected: dict[str, Any]) -> bool:
    try:
        return tomllib.loads(text) == expected
    except tomllib.TOMLDecodeError:
        return False


# --- sections -----------------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\[\]\n#]+?)[ \t]*\]\]?[ \t]*(?:#[^\n]*)?$", re.M)


@dataclass(frozen=True)
class _Header:
    path: Key
    block: int  # start of the comment lines directly above the header
    start: int  # the header line itself
    is_array: bool


def _parse_key(raw: str) -> Key:
    if '"' not in raw and "'" not in raw:
        return tuple(part.strip() for part in raw.split("."))
    node: Any = tomllib.loads(f"{raw} = 0")
    parts: list[str] = []
    while isinstance(node, dict):
        ((key, node),) = node.items()
        parts.append(key)
    return tuple(parts)


def _headers(text: str) -> list[_Header]:
    out: list[_Header] = []
    for m in _HEADER.finditer(text):
        start = m.start()
        block = start
        while block > 0:
            prev = text.rfind("\n", 0, block - 1) + 1
            if not text[prev : block - 1].lstrip().startswith("#"):
                break
            block = prev
        try:
            path = _parse_key(m.group(2))
        except (tomllib.TOMLDecodeError, ValueError):
            continue
        out.append(_Header(path, block, start, m.group(1) == "[["))
    return out


def _apply_to_section(text: str, edit: Edit) -> str | None:
    """Apply one edit by re-writing only the section it touches; None if unsure."""
    headers = _headers(text)
    if any(h.is_array for h in headers):
        return None
    path = edit.path
    if any(h.path[: len(path)] == path for h in headers):
        # the edit removes or replaces whole tables: drop their sections first
        text = _drop_tables(text, headers, path)
        if edit.value is DELETE or edit.value is COMMENT_OUT:
            return text
        headers = _headers(text)
    owners = [h for h in headers if len(h.path) < len(path) and path[: len(h.path)] == h.path]
    if owners:
        owner = max(owners, key=lambda h: len(h.path))
        end = next((h.block for h in headers if h.start > owner.start), len(text))
        end = _content_end(text, owner.start, end)
        return _edit_snippet(text, owner.start, end, owner.path, path, edit.value)
    if edit.value is DELETE or edit.value is COMMENT_OUT or len(path) == 1:
        end = _content_end(text, 0, headers[0].block if headers else len(text))
        return _edit_snippet(text, 0, end, (), path, edit.value)
    if not isinstance(edit.value, dict):
        return None
    return _insert_table(text, headers, path, edit.value)


def _content_end(text: str, start: int, end: int) -> int:
    """End of the last line in [start, end) that is neither blank nor a comment.

    Comments and blank lines after a table's last key introduce what follows;
    new keys go before them.
    """
    pos = end
    while pos > start:
        line_start = text.rfind("\n", start, pos - 1) + 1
        line = text[max(line_start, start) : pos].strip()
        if line and not line.startswith("#"):
            break
        pos = max(line_start, start)
    return pos


def _edit_snippet(text: str, start: int, end: int, table: Key, path: Key, value: Any) -> str:
    old = text[start:end]
    doc = tomlkit.parse(old)
    _apply_to_container(doc, path, value, implicit=table)
    return text[:start] + _seam(doc.as_string(), old, text[end:]) + text[end:]


def _seam(snippet: str, old: str, rest: str) -> str:
    """`snippet` ready to go before `rest`: tomlkit ends a table it added without a newline.

    A new table also gets a blank line between it and the section that follows.
    """
    if old.endswith("\n") or rest:
        snippet = snippet.rstrip("\n") + "\n"
    added_table = len(_HEADER.findall(snippet)) > len(_HEADER.findall(old))
    if added_table and rest and not rest.startswith("\n"):
        snippet += "\n"
    return snippet


def _drop_tables(text: str, headers: list[_Header], path: Key) -> str:
    keep: list[str] = []
    pos = 0
    for i, h in enumerate(headers):
        if h.path[: len(path)] == path:
            end = headers[i + 1].block if i + 1 < len(headers) else len(text)
            keep.append(text[pos : h.block])
            pos = end
    keep.append(text[pos:])
    result = "".join(keep)
    if pos == len(text) and result.strip():
        # the last section went: the blank line that led to it must not end the file
        result = result.rstrip() + "\n"
    return result


def _insert_table(text: str, headers: list[_Header], path: Key, value: dict[str, Any]) -> str:
    """Add a new table after the last section that shares the longest prefix with it."""
    best, best_len = None, 0
    for i, h in enumerate(headers):
        common = next(
            (n for n, (a, b) in enumerate(zip(h.path, path, strict=False)) if a != b),
            min(len(h.path), len(path)),
        )
        if common >= best_len and common > 0:
            best, best_len = i, common
    at = len(text) if best is None or best + 1 >= len(headers) else headers[best + 1].block
    doc = tomlkit.document()
    _apply_to_container(doc, path, value)
    snippet = doc.as_string()
    before = text[:at]
    if before and not before.endswith("\n"):
        before += "\n"
    if before and not before.endswith("\n\n"):
        before += "\n"
    after = text[at:]
    snippet = snippet.rstrip("\n") + "\n"  # tomlkit ends the last table without one
    if after and not after.startswith("\n"):
        snippet += "\n"  # a blank line before the section that follows
    return before + snippet + after


# --- tomlkit ------------------------------------------------------------------


def _apply_to_container(doc: Container | Table, path: Key, value: Any, implicit: Key = ()) -> None:
    node: Any = doc
    for n, part in enumerate(path[:-1]):
        if n < len(implicit):
            node = node[part]
            continue
        if part not in node:
            if value is DELETE or value is COMMENT_OUT:
                return
            node[part] = tomlkit.table(is_super_table=True)
        node = node[part]
        if isinstance(node, AoT):
            raise ValueError(f"cannot edit inside array of tables {'.'.join(path[: n + 1])}")
    last = path[-1]
    if value is COMMENT_OUT and last in node:
        _comment_out(node, last)
        return
    if value is DELETE or value is COMMENT_OUT:
        if last in node:
            del node[last]
        return
    node[last] = to_item(value, inline=isinstance(node, InlineTable))


def _comment_out(node: Any, key: str) -> None:
    """Replace the line of `key` with `# <that line>`, its own comment included."""
    container = node.value if isinstance(node, Table) else node
    if isinstance(container, Container):
        for index, (k, item) in enumerate(container.body):
            if k is None or k.key != key or isinstance(item, (Table, AoT)) or k.is_dotted():
                continue
            trivia = item.trivia
            line = f"{k.as_string()}{k.sep}{item.as_string()}{trivia.comment_ws}{trivia.comment}"
            del node[key]  # leaves a placeholder at `index`
            comment = Comment(Trivia(indent=trivia.indent, comment=f"# {line}", trail=trivia.trail))
            container.body[index] = (None, comment)
            return
    del node[key]


def to_item(value: Any, inline: bool = False) -> Item:
    """A tomlkit item for a plain value; small flat tables become inline tables."""
    if isinstance(value, dict):
        flat = all(not isinstance(v, dict) for v in value.values())
        if inline or (flat and len(value) <= 4):
            return _inline_table(value)
        table = tomlkit.table()
        for k, v in value.items():
            table[k] = to_item(v)
        return table
    item: Item = tomlkit.item(value)
    return item


def _inline_table(value: dict[str, Any]) -> InlineTable:
    """`{ a = 1, b = "x" }`, spaced the way people write it (tomlkit alone writes `{a = 1}`)."""
    parts = [
        f"{tomlkit.key(k).as_string()} = {to_item(v, True).as_string()}" for k, v in value.items()
    ]
    text = "{ " + ", ".join(parts) + " }" if parts else "{}"
    table = tomlkit.parse(f"v = {text}")["v"]
    assert isinstance(table, InlineTable)
    return table


def parse_dotted_key(raw: str) -> Key:
    """`operators.coop.apps.mastodon` or `operators."my.op".name` as a key path."""
    try:
        key = _parse_key(raw)
    except (tomllib.TOMLDecodeError, ValueError):
        raise ValueError(raw) from None
    if (
        not key
        or not all(key)
        or any(
            not re.fullmatch(r"[A-Za-z0-9_-]+", k) and '"' not in raw and "'" not in raw
            for k in key
        )
    ):
        raise ValueError(raw)
    return key
