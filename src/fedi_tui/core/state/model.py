"""The full state model (with installed applications) and validation into located problems."""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from fedi_tui.core.apps.base import AppModule
from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.spec import AppsBase, OperatorSpecBase, StateSpecBase
from fedi_tui.core.state.validators import PATTERN_WORDS, Identifier

TomlPath = tuple[str | int, ...]


class OperatorSpec(OperatorSpecBase):
    """An operator with the installed applications attached (see `state_model`)."""

    apps: AppsBase = AppsBase()


class StateSpec(StateSpecBase):
    """The validated fedi.toml."""

    operators: dict[str, OperatorSpec] = Field(default_factory=dict)


@cache
def _state_model(apps: tuple[AppModule, ...]) -> type[StateSpec]:
    apps_model = create_model(  # type: ignore[call-overload]
        "AppsSpec",
        __base__=AppsBase,
        __doc__="The applications of one operator.",
        **{a.name: (a.options | None, None) for a in apps},
    )
    operator_model = create_model(
        "OperatorSpec", __base__=OperatorSpec, apps=(apps_model, apps_model())
    )
    model = create_model(
        "StateSpec", __base__=StateSpec, operators=(dict[Identifier, operator_model], {})
    )
    return cast(type[StateSpec], model)


def state_model(apps: Mapping[str, AppModule] | None = None) -> type[StateSpec]:
    """The StateSpec class for a set of applications (default: the installed ones)."""
    return _state_model(tuple((apps if apps is not None else installed_apps()).values()))


def validate_data(
    data: dict[str, Any], apps: Mapping[str, AppModule] | None = None
) -> tuple[StateSpec | None, list[tuple[TomlPath, str]]]:
    """Validate parsed TOML; returns the model or every problem as (toml path, message)."""
    model = state_model(apps)
    problems = check_references(data)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        # the input is only looked at for line breaks: it is never put into a message
        problems += [_explain(model, err) for err in exc.errors(include_input=True)]
        return None, problems
    return (None if problems else spec), problems


def check_references(data: Mapping[str, Any]) -> list[tuple[TomlPath, str]]:
    """Operators must name a runtime and storage that exist."""
    problems: list[tuple[TomlPath, str]] = []
    operators = data.get("operators")
    if not isinstance(operators, dict):
        return problems
    for section in ("runtimes", "storage"):
        defined = data.get(section)
        names = sorted(defined) if isinstance(defined, dict) else []
        field = "runtime" if section == "runtimes" else "storage"
        for op_id, op in operators.items():
            ref = op.get(field) if isinstance(op, dict) else None
            if isinstance(ref, str) and ref not in names:
                problems.append(
                    (
                        (("operators", op_id, field)),
                        f"no [{section}.{_toml_key(ref)}] is defined{_suggest(ref, names)}",
                    )
                )
    return problems


def _toml_key(name: str) -> str:
    """`name` as written in a TOML header: bare when it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if choices:
        return f"; defined: {', '.join(choices)}"
    return ""


_KIND = {
    "missing": "required key is missing",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "list_type": "expected an array",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
}


def _explain(model: type[BaseModel], err: ErrorDetails) -> tuple[TomlPath, str]:
    path, parent = _walk(model, err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden" and path:
        key = str(path[-1])
        allowed = sorted(parent) if parent else []
        return path, f"unknown key {key!r}{_suggest(key, allowed)}"
    if kind == "missing":
        return path, f"required key {path[-1]!s} is missing" if path else _KIND[kind]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # the section's `kind` key is missing or names no known kind: point at that key
        ctx = err.get("ctx") or {}
        field = str(ctx.get("discriminator", "kind")).strip("'")
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        if kind == "union_tag_not_found":
            return (*path, field), f"required key {field} is missing"
        tag = str(ctx.get("tag", ""))
        close = difflib.get_close_matches(tag, tags, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(tags)}"
        return (*path, field), f"unknown {field} {tag!r}; {hint}"
    message = _KIND.get(kind)
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str((err.get("ctx") or {}).get("pattern", "")))
        message = f"expected {words}" if words else None
    if message is None:
        message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        message = message[:1].lower() + message[1:]
    value = err.get("input")
    if isinstance(value, str) and _CONTROL.search(value):
        message += "; the value holds a line break or another control character: remove it"
    return path, message


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _walk(model: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[TomlPath, list[str]]:
    """Turn a pydantic error location into a TOML key path (dropping union tags).

    Also returns the keys allowed at the last step, for "did you mean" hints.
    """
    path: list[str | int] = []
    current: Any = model
    allowed: list[str] = []
    tagged = False
    for part in loc:
        current = unwrap_type(current)
        if part == "[key]":
            continue
        after_tag, tagged = tagged, False
        if isinstance(current, type) and issubclass(current, BaseModel):
            allowed = [f.alias or n for n, f in current.model_fields.items()]
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            if field is None and not after_tag and _is_tag(current, part):
                tagged = True  # the tag of a one-member discriminated union: not a TOML key
                continue
            path.append(part)
            current = field.annotation if field else None
        elif _is_union(current):
            choice = _pick_member(current, part)
            if choice is not None:  # a discriminator tag: not a TOML key
                current, tagged = choice, True
                continue
            path.append(part)
            current = None
        elif typing.get_origin(current) in (dict, list):
            path.append(part)
            current = typing.get_args(current)[-1]
        else:
            path.append(part)
            current = None
    return tuple(path), allowed


def unwrap_type(tp: Any) -> Any:
    """The type inside `Annotated[...]` and `X | None` (a union of several stays as it is)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if _is_union(tp):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return unwrap_type(members[0])
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _pick_member(tp: Any, tag: str | int) -> Any:
    for member in typing.get_args(tp):
        member = unwrap_type(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and _is_tag(member, tag):
            return member
    return None


def _is_tag(model: type[BaseModel], tag: str | int) -> bool:
    """Whether `tag` is a value of the model's `kind` discriminator."""
    kind = model.model_fields.get("kind")
    return kind is not None and tag in typing.get_args(kind.annotation)
