"""Form models derived from the option and runtime models; no Textual here.

A form reads a model's *field metadata* (type, default, docstring) and works on
plain TOML data, never on Spec instances: a Spec is not a form model. Values in
a form are what a person typed (text, a choice, a switch); `apply_form` turns
them into TOML data that differs from the old data only where the person
changed something, so a save writes exactly those keys.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from fedi_tui.core.state.model import TomlPath, validate_data
from fedi_tui.core.state.secretref import SecretRef
from fedi_tui.core.state.spec import OperatorSpecBase
from fedi_tui.core.state.tomledit import (
    COMMENT_OUT,
    DELETE,
    Edit,
    apply_edits,
    apply_to_data,
    edits_between,
    to_item,
)

FieldKind = Literal["bool", "choice", "choices", "int", "text", "toml"]
FormValue = str | bool | tuple[str, ...]
Key = tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Not written in the data (and, as a parsed form value: leave the key out)."""


@dataclass(frozen=True)
class FormField:
    """One input of a form: where its value lives and how to ask for it."""

    path: Key
    """Key path relative to the form's table, e.g. ('admin', 'username')."""
    label: str
    help: str
    kind: FieldKind
    choices: tuple[str, ...] = ()
    optional: bool = False
    """May be left empty; the key is then not written."""
    default: Any = MISSING
    """Plain TOML value that applies when the key is absent."""

    @property
    def key(self) -> str:
        return ".".join(self.path)


def _strip(tp: Any) -> tuple[Any, bool]:
    """The type without Annotated and None, and whether None was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(tp))
            if len(args) != 1:
                return tp, optional
            tp = args[0]
        else:
            return tp, optional


def _kind(tp: Any) -> tuple[FieldKind, tuple[str, ...]]:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "bool", ()
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(tp))
    if origin is list:
        inner, _ = _strip(typing.get_args(tp)[0])
        if typing.get_origin(inner) is Literal:
            return "choices", tuple(str(a) for a in typing.get_args(inner))
    if tp is int:
        return "int", ()
    if tp is str:
        return "text", ()
    return "toml", ()


_WORDS = {
    "api": "API",
    "ca": "CA",
    "cidr": "CIDR",
    "cpu": "CPU",
    "dns": "DNS",
    "email": "e-mail",
    "id": "ID",
    "s3": "S3",
    "ssh": "SSH",
    "tls": "TLS",
    "url": "URL",
    "vmids": "VM IDs",
}
_UNITS = {"gib": "(GiB)", "kb": "(KB)", "mb": "(MB)"}


def _label(path: Key) -> str:
    """A key path in words: ('ssh', 'user') → 'SSH user', 'max_upload_mb' → 'Max upload (MB)'."""
    words = [w for part in path for w in part.split("_")]
    if len(words) > 1 and words[-1] in _UNITS:
        words[-1] = _UNITS[words[-1]]
    words = [_WORDS.get(w, w) for w in words]
    first = words[0]
    words[0] = first if first[:1].isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def form_fields(
    model: type[BaseModel], *, skip: Iterable[str] = ("kind",), _prefix: Key = ()
) -> tuple[FormField, ...]:
    """The fields of a model as form inputs; nested tables are flattened into their keys."""
    out: list[FormField] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if not _prefix and key in skip:
            continue
        tp, optional = _strip(info.annotation)
        path = (*_prefix, key)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp is not SecretRef:
            out += form_fields(tp, skip=(), _prefix=path)
            continue
        kind, choices = _kind(tp)
        out.append(
            FormField(
                path=path,
                label=_label(path),
                help=info.description or "",
                kind=kind,
                choices=choices,
                optional=optional,
                default=_default(info),
            )
        )
    return tuple(out)


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return MISSING
    value = _plain(info.get_default(call_default_factory=True))
    return MISSING if value is None else value


# --- values -----------------------------------------------------------------------


def get_in(data: Any, path: Key) -> Any:
    node = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def _set_in(data: dict[str, Any], path: Key, value: Any) -> None:
    node = data
    for part in path[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = node[part] = {}
        node = nxt
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def inline_toml(value: Any) -> str:
    """A plain value as one line of TOML, the way a person would type it."""
    text: str = to_item(value, inline=True).as_string()
    return text


def display_value(field: FormField, value: Any) -> FormValue:
    """What the form shows for a data value (MISSING: the default, else empty)."""
    if value is MISSING:
        value = field.default
    if field.kind == "bool":
        return bool(value) if value is not MISSING else False
    if field.kind == "choices":
        return tuple(value) if isinstance(value, list) else ()
    if value is MISSING:
        return ""
    if field.kind == "toml":
        return inline_toml(value)
    return str(value)


def form_values(fields: Iterable[FormField], data: Mapping[str, Any]) -> dict[str, FormValue]:
    return {f.key: display_value(f, get_in(data, f.path)) for f in fields}


def parse_value(field: FormField, raw: FormValue) -> Any:
    """The TOML value for what was typed, MISSING for "leave out"; ValueError says why not."""
    if field.kind == "bool":
        return bool(raw)
    if field.kind == "choices":
        return list(raw) if isinstance(raw, tuple) else [raw]
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return "" if field.default == "" else MISSING
    if field.kind == "int":
        try:
            return int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise ValueError("expected a whole number, e.g. 30") from None
    if field.kind == "toml":
        try:
            return tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(
                'expected a TOML value, e.g. ["a", "b"] or { env = "NAME" }; quote text'
            ) from None
    return text


def apply_form(
    old: Mapping[str, Any], fields: Iterable[FormField], values: Mapping[str, FormValue]
) -> tuple[dict[str, Any], dict[str, str]]:
    """New table data with the typed values; keys are written only where a value changed.

    Returns the data and, per field key, the input that could not be read.
    """
    new: dict[str, Any] = copy.deepcopy(dict(old))
    errors: dict[str, str] = {}
    groups: set[Key] = set()
    for field in fields:
        if len(field.path) > 1:
            groups.add(field.path[:-1])
        try:
            value = parse_value(field, values.get(field.key, ""))
        except ValueError as exc:
            errors[field.key] = str(exc)
            continue
        current = get_in(old, field.path)
        before = field.default if current is MISSING else current
        if value is MISSING:
            if current is not MISSING:
                _set_in(new, field.path, MISSING)
        elif type(value) is not type(before) or value != before:
            _set_in(new, field.path, value)
    for group in sorted(groups, key=len, reverse=True):
        if get_in(new, group) == {} and get_in(old, group) != {}:
            _set_in(new, group, MISSING)
    return new, errors


# --- validation -------------------------------------------------------------------


def validate_entry(
    data: Mapping[str, Any], section: str, name: str, value: Mapping[str, Any] | None
) -> list[tuple[TomlPath, str]]:
    """Problems of one runtime/storage/operator entry, paths relative to the entry.

    Validates a small state (the shared sections plus only this entry when it is
    an operator) so it stays cheap on large files.
    """
    small = {k: v for k, v in data.items() if k != "operators"}
    small["operators"] = {}
    if section == "operators":
        small["operators"] = {name: dict(value or {})}
    elif value is not None:
        small[section] = {**dict(data.get(section) or {}), name: dict(value)}
    _, problems = validate_data(small)
    root = (section, name)
    return [(p[2:], m) for p, m in problems if p[:2] == root] + [
        ((), m) for p, m in problems if p == (section,)
    ]


def friendly(field: FormField | None, message: str) -> str:
    """Pydantic's pattern messages mean little to a person: point at the help instead."""
    if message.startswith("string should match pattern") and field is not None:
        return f"not accepted here. {field.help}".strip()
    if message.startswith(("string should have at least 1 character", "required key")):
        return "required: please fill this in"
    return message


def assign_problems(
    fields: Iterable[FormField], problems: Iterable[tuple[TomlPath, str]]
) -> tuple[dict[str, str], list[str]]:
    """Problems per field key (the nearest field), and those that belong to no field."""
    fields = tuple(fields)
    by_field: dict[str, str] = {}
    general: list[str] = []
    for path, message in problems:
        owner = max(
            (f for f in fields if path[: len(f.path)] == f.path),
            key=lambda f: len(f.path),
            default=None,
        )
        if owner is None and path:  # a whole table is missing: its first required field
            inside = [f for f in fields if f.path[: len(path)] == path]
            needed = [f for f in inside if f.default is MISSING and not f.optional]
            owner = (needed or inside)[0] if inside else None
        if owner is None:
            general.append(message)
        else:
            by_field.setdefault(owner.key, friendly(owner, message))
    return by_field, general


# --- edits and previews -----------------------------------------------------------


def section_edits(
    root: Key, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[Edit]:
    """The edits that turn the table at `root` from `old` into `new` (None: absent)."""
    if new is None:
        return [] if old is None else [Edit(root, DELETE)]
    if old is None:
        return [Edit(root, dict(new))]
    return edits_between(old, new, root)


def preview_text(text: str, data: dict[str, Any], edits: list[Edit]) -> str:
    """The file text a save of these edits would write (comments and layout kept)."""
    return apply_edits(text, edits, apply_to_data(data, edits))


def changed_lines(old: str, new: str) -> list[str]:
    """A unified diff without file headers: what a save would change, line by line."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if not line.startswith(("---", "+++"))]


def pin_edits(
    section: str,
    name: str,
    data: Mapping[str, Any],
    *,
    fingerprint: str | None = None,
    host_key: str | None = None,
) -> list[Edit]:
    """Pin a probed TLS fingerprint or SSH host key into an entry.

    A fingerprint replaces the entry's ca_file (only one trust anchor is allowed):
    the ca_file line is kept as a comment, with its own comment, so it can be restored.
    """
    edits: list[Edit] = []
    if fingerprint:
        edits.append(Edit((section, name, "fingerprint"), fingerprint))
        if get_in(data, (section, name, "ca_file")) is not MISSING:
            edits.append(Edit((section, name, "ca_file"), COMMENT_OUT))
    if host_key:
        edits.append(Edit((section, name, "host_key"), host_key))
    return edits


def operator_fields(data: Mapping[str, Any]) -> tuple[FormField, ...]:
    """The operator's own keys; runtime and storage as choices of the defined ones."""
    out = []
    for field in form_fields(OperatorSpecBase):
        if field.key in ("runtime", "storage"):
            section = "runtimes" if field.key == "runtime" else "storage"
            names = tuple(data.get(section) or {})
            field = replace(field, kind="choice", choices=names)
        out.append(field)
    return tuple(out)
