"""validate, get, set: the state file from scripts."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

import tomlkit

from fedi_tui.cli.common import EXIT_OK, EXIT_USER, load, state_path
from fedi_tui.core.deploy.mapping import PlacementError
from fedi_tui.core.errors import FediError, InvalidState, Problem
from fedi_tui.core.state.file import LoadedState, locate, update_state
from fedi_tui.core.state.lookup import look_up, look_up_written
from fedi_tui.core.state.tomledit import Edit, edits_between, parse_dotted_key, to_item
from fedi_tui.core.workspace import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check the state file; list every problem",
        description="Check the state file: its syntax, every value, and that every machine "
        "can be placed on the runtimes (as plan would). Exit 0 when valid, 1 with every "
        "problem listed with its place in the file.",
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "get",
        help="print one value of the state file",
        description="Print the value at a dotted KEY, e.g. operators.coop.apps.mastodon.enable. "
        "Strings print bare; other values print as TOML.",
    )
    p.add_argument("key", metavar="KEY")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser(
        "set",
        help="change one value of the state file",
        description="Set the dotted KEY to VALUE, a TOML value: true, 42, '\"text\"', "
        '\'["a", "b"]\', \'{ env = "NAME" }\'. The result is validated before saving; '
        "comments and layout elsewhere stay as they are.",
    )
    p.add_argument("key", metavar="KEY")
    p.add_argument("value", metavar="VALUE")
    p.set_defaults(func=cmd_set, mutates=True)


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        loaded = load(args)
        # what plan would refuse is a problem of the file too: map it onto the resources
        Workspace.from_loaded(loaded).config  # noqa: B018
    except InvalidState as exc:
        return _problems(exc.path, exc.problems)
    except PlacementError as exc:
        return _problems(loaded.path, locate(loaded.text, exc.problems))
    spec = loaded.spec
    apps = sum(1 for op in spec.operators.values() for _, a in op.apps.items() if a.enable)
    print(
        f"{loaded.path}: valid — {len(spec.runtimes)} runtimes, {len(spec.storage)} storage, "
        f"{len(spec.operators)} operators, {apps} enabled apps; every machine can be placed"
    )
    return EXIT_OK


def _problems(path: Path, problems: list[Problem]) -> int:
    for problem in sorted(problems):
        print(problem.format(path), file=sys.stderr)
    n = len(problems)
    print(f"{n} problem{'s' if n != 1 else ''} in {path}", file=sys.stderr)
    return EXIT_USER


def _key(raw: str) -> tuple[str, ...]:
    try:
        return parse_dotted_key(raw)
    except ValueError:
        raise FediError(
            f"{raw!r} is not a dotted key; write e.g. operators.coop.apps.mastodon.enable"
        ) from None


def cmd_get(args: argparse.Namespace) -> int:
    loaded = load(args)
    found = look_up(loaded, _key(args.key))
    name = ".".join(found.key)
    about = f" — {found.description.rstrip('.')}" if found.description else ""
    if found.value is None:
        # nothing on stdout: a script reading the value gets an empty string
        if found.missing != found.key:
            why = f"{loaded.path} has no {'.'.join(found.missing)}"
        else:
            why = f"{loaded.path} does not set it and it has no default"
        print(f"{name} is not set: {why}{about}", file=sys.stderr)
        return EXIT_OK
    print(_format(found.value))
    if found.is_default:
        print(f"{name} is not in {loaded.path}: this is the default{about}", file=sys.stderr)
    return EXIT_OK


def _format(value: Any) -> str:
    if isinstance(value, str):
        return value
    item = to_item(value)
    text: str = tomlkit.dumps(item) if isinstance(item, dict) else item.as_string()
    return text.rstrip("\n")


def parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        # the value is not repeated: it may be a secret typed in the wrong place
        raise FediError(
            'VALUE is not a TOML value; write true, 42, ["a"] or { env = "NAME" }, '
            "and quote strings: '\"text\"'"
        ) from None


def cmd_set(args: argparse.Namespace) -> int:
    key = _key(args.key)
    value = parse_value(args.value)

    def change(loaded: LoadedState) -> list[Edit]:
        written = look_up_written(loaded.data, key)
        if isinstance(value, dict) and isinstance(written, dict):
            # a table over a table: change only what differs, so it keeps its place
            # in the file and the comments of the keys that stay
            return edits_between(written, value, key)
        return [Edit(key, value)]

    update_state(state_path(args), change)
    print(f"{'.'.join(key)} = {to_item(value, inline=True).as_string()}")
    return EXIT_OK
