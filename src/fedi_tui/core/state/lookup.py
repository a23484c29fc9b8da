"""Look up one dotted key of a loaded state: what the file says, the default, or unset.

`fedi-tui get` and anything else that shows a single value use this. A key
is checked against the model, not only against the file, so a key that the
model has but the file does not write is answered (with its default, or as
unset), and a key the model does not have is an error with "did you mean".
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.model import unwrap_type

Key = tuple[str, ...]


class UnknownKey(FediError):
    """The key names nothing the state file could hold."""


@dataclass(frozen=True)
class Found:
    """The answer for one key."""

    key: Key
    value: Any
    """Plain TOML data: as written in the file, else the default; None when unset."""
    written: bool
    """The file itself writes this key (else `value` is the default, or None)."""
    missing: Key
    """When unset: the shortest part of `key` the file has no value for (else `()`)."""
    description: str
    """The field's help text ('' if it has none)."""

    @property
    def is_default(self) -> bool:
        return not self.written and self.value is not None


def look_up(loaded: LoadedState, key: Key) -> Found:
    """What `key` is in the loaded state. UnknownKey if the model has no such key."""
    if not key:
        raise UnknownKey("give a dotted key, e.g. operators.coop.apps.mastodon.enable")
    value: Any = loaded.spec
    annotation: Any = type(loaded.spec)
    description = ""
    missing: Key = ()
    for n in range(len(key)):
        value, annotation, description = _step(key, n, value, annotation)
        if value is None and not missing:
            missing = key[: n + 1]
    written, raw = _in_file(loaded.data, key)
    if written:
        return Found(key, raw, True, (), description)
    if value is None:
        return Found(key, None, False, missing, description)
    plain = to_jsonable_python(value, by_alias=True, exclude_none=True)
    return Found(key, plain, False, (), description)


def _step(key: Key, n: int, value: Any, annotation: Any) -> tuple[Any, Any, str]:
    """One part of the key further: the value there (None if unset), its type, its help."""
    part = key[n]
    here = ".".join(key[:n]) or "the top level"
    model = type(value) if isinstance(value, BaseModel) else unwrap_type(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        fields = {(f.alias or name): name for name, f in model.model_fields.items()}
        if part not in fields:
            raise UnknownKey(_no_key(key, n, here, sorted(fields)))
        field = model.model_fields[fields[part]]
        inner = getattr(value, fields[part]) if value is not None else None
        return inner, field.annotation, field.description or ""
    if typing.get_origin(model) is dict:
        present = value if isinstance(value, dict) else {}
        if part not in present:
            raise UnknownKey(_no_key(key, n, here, sorted(present)))
        return present[part], typing.get_args(model)[1], ""
    raise UnknownKey(f"{'.'.join(key)}: {here} is a value, not a table; try `get {here}`")


def _no_key(key: Key, n: int, here: str, choices: list[str]) -> str:
    part = key[n]
    close = difflib.get_close_matches(part, choices, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif choices:
        hint = f"; keys there: {', '.join(choices)}"
    else:
        hint = f"; {here} has no keys yet"
    return f"{'.'.join(key)}: no key {part!r} in {here}{hint}"


def look_up_written(data: dict[str, Any], key: Key) -> Any:
    """The plain value the file writes at `key`, or None."""
    return _in_file(data, key)[1]


def _in_file(data: dict[str, Any], key: Key) -> tuple[bool, Any]:
    node: Any = data
    for part in key:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node
