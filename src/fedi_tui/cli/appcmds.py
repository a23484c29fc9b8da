"""apps: what applications are installed and what they offer."""

from __future__ import annotations

import argparse
import json
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from fedi_tui.cli.common import EXIT_OK
from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.model import state_model
from fedi_tui.core.state.tomledit import to_item
from fedi_tui.core.state.validators import (
    DomainName,
    EmailAddress,
    HttpsUrl,
    HttpUrl,
    Identifier,
    Port,
    Username,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apps",
        help="list installed applications and their options",
        description="List the installed application modules with every option, "
        "its type, default and help.",
    )
    p.add_argument("name", nargs="?", help="show only this application")
    p.set_defaults(func=cmd_apps)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of fedi.toml (for editors)",
        description="Print the JSON Schema of the state file, with the installed applications' "
        "options, for editors that validate TOML (e.g. taplo: '#:schema ./fedi.schema.json').",
    )
    p.set_defaults(func=cmd_schema)


_NAMED: dict[Any, str] = {
    DomainName: "domain name",
    EmailAddress: "e-mail address",
    Username: "user name",
    HttpsUrl: "https:// URL",
    HttpUrl: "http(s):// URL",
    Identifier: "name",
    Port: "port number",
}
_PLAIN = {str: "text", int: "integer", float: "number", bool: "true or false"}


def _shape(field: FieldInfo) -> str:
    return f"{field.annotation!r} {field.metadata!r}"


# pydantic keeps `x: DomainName` as annotation str plus metadata: recognise that form too
_NAMED_FIELDS = {_shape(FieldInfo.from_annotation(t)): name for t, name in _NAMED.items()}


def _toml(value: object) -> str:
    """A value as it is written in fedi.toml."""
    return to_item(value, inline=True).as_string()


def _type_name(tp: object) -> str:
    """A type in the words of the state file: `text`, `"open", "approval" or "closed"`."""
    if tp in _NAMED:
        return _NAMED[tp]
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        choices = [_toml(a) for a in typing.get_args(tp)]
        return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if args and origin is not None:
        return " or ".join(_type_name(a) for a in args)
    if isinstance(tp, type) and tp in _PLAIN:
        return _PLAIN[tp]
    return getattr(tp, "__name__", str(tp))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    return "optional" if value is None else f"default {_toml(value)}"


def _options(model: type[BaseModel], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for name, field in model.model_fields.items():
        tp = field.annotation
        inner = [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
        sub = (
            tp
            if isinstance(tp, type) and issubclass(tp, BaseModel)
            else (inner[0] if inner else None)
        )
        key = field.alias or name
        if sub is not None:
            kind = "required" if field.is_required() else "optional"
            lines.append(f"    {prefix}{key}: table, {kind}")
            if field.description:
                lines.append(f"        {field.description}")
            lines += _options(sub, f"{prefix}{key}.")
            continue
        kind = _NAMED_FIELDS.get(_shape(field)) or _type_name(tp)
        lines.append(f"    {prefix}{key}: {kind}, {_default(field)}")
        if field.description:
            lines.append(f"        {field.description}")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def cmd_apps(args: argparse.Namespace) -> int:
    apps = installed_apps()
    if args.name and args.name not in apps:
        from fedi_tui.core.errors import FediError

        raise FediError(f"no application {args.name!r}; installed: {', '.join(apps)}")
    for name, app in apps.items():
        if args.name and name != args.name:
            continue
        print(f"{name} — {app.title}: {app.summary}")
        print("  sizes (the size option):")
        width = max(len(s) for s in app.sizes)
        for size, p in app.sizes.items():
            print(
                f"    {size:<{width}}  up to {_plural(p.users, 'user')}: "
                f"{_plural(p.cores, 'core')}, {p.memory_gib} GiB memory, "
                f"{p.disk_gib} GiB disk, {p.s3_quota_gib:,} GiB S3"
            )
        print(f"  options, in [operators.<id>.apps.{name}]:")
        print("\n".join(_options(app.options)))
        print()
    return EXIT_OK


def state_schema() -> dict[str, object]:
    """The JSON Schema of fedi.toml for the installed applications."""
    schema = state_model().model_json_schema(by_alias=True)
    schema["title"] = "fedi-tui state file (fedi.toml)"
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(state_schema(), indent=2, sort_keys=True))
    return EXIT_OK
