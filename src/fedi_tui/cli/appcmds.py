"""apps: what applications are installed and what they offer."""

from __future__ import annotations

import argparse
import json
import typing

from pydantic import BaseModel

from fedi_tui.cli.common import EXIT_OK
from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.model import state_model


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


def _type_name(tp: object) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if args and origin is not None:
        return " | ".join(_type_name(a) for a in args)
    return getattr(tp, "__name__", str(tp))


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
        if sub is not None:
            lines.append(f"  {prefix}{name}  (table) — {field.description or ''}")
            lines += _options(sub, f"{prefix}{name}.")
            continue
        default = (
            "" if field.is_required() else f" = {field.get_default(call_default_factory=True)!r}"
        )
        lines.append(f"  {prefix}{name}: {_type_name(tp)}{default}")
        if field.description:
            lines.append(f"      {field.description}")
    return lines


def cmd_apps(args: argparse.Namespace) -> int:
    apps = installed_apps()
    if args.name and args.name not in apps:
        from fedi_tui.core.errors import FediError

        raise FediError(f"no application {args.name!r}; installed: {', '.join(apps)}")
    for name, app in apps.items():
        if args.name and name != args.name:
            continue
        print(f"{name} — {app.title}: {app.summary}")
        print(
            "  sizes: "
            + ", ".join(
                f"{s} (≤{p.users:,} users: {p.cores} cores, {p.memory_gib} GiB, "
                f"{p.disk_gib} GiB disk, {p.s3_quota_gib} GiB S3)"
                for s, p in app.sizes.items()
            )
        )
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
