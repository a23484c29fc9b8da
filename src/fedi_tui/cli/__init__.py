"""`fedi-tui`: the TUI by default, headless subcommands for scripts.

Exit codes: 0 success, 1 user error (bad input, invalid state, refused, and
usage errors: an unknown command or option, a missing argument), 2 only for
`plan` finding changes, 70 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from fedi_tui import __version__
from fedi_tui.cli import (
    appcmds,
    applycmd,
    backupcmd,
    logscmd,
    migratecmd,
    plancmd,
    rendercmd,
    sandboxcmd,
    setupcmd,
    statecmds,
    storagecmd,
    trustcmd,
)
from fedi_tui.cli.common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USER
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.trust import trust_state_files
from fedi_tui.core.userdirs import user_dirs

MODULES = (
    statecmds,
    appcmds,
    rendercmd,
    plancmd,
    applycmd,
    backupcmd,
    logscmd,
    trustcmd,
    storagecmd,
    setupcmd,
    sandboxcmd,
    migratecmd,
)


class UsageError(Exception):
    """The command line itself is wrong; carries the parser that found it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is exit 1 (a user error), never 2 ("plan found changes")."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def _usage_error(exc: UsageError) -> int:
    parser = exc.parser
    parser.print_usage(sys.stderr)
    hint = ""
    wrong = re.match(r"argument COMMAND: invalid choice: '([^']*)'", exc.message)
    if wrong:
        commands = [c for c in _commands(parser) if not c.startswith("-")]
        close = difflib.get_close_matches(wrong.group(1), commands, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    print(f"{parser.prog}: error: {exc.message}{hint}", file=sys.stderr)
    print(f"Run `{parser.prog} --help` for what it accepts.", file=sys.stderr)
    return EXIT_USER


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fedi-tui",
        description=(
            "Run Mastodon, PeerTube and Pixelfed for your customers. Without a command, "
            "opens the terminal UI on the state file."
        ),
        epilog="State file: --state PATH, else $FEDI_STATE, else ./fedi.toml. Exit codes: "
        "0 success, 1 user error (also a wrong command line), 2 plan found changes, "
        "70 internal error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"fedi-tui {__version__}")
    parser.add_argument(
        "-s", "--state", metavar="PATH", help="state file (default: $FEDI_STATE or ./fedi.toml)"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="change nothing: the TUI offers no edits, and commands that write refuse",
    )
    parser.add_argument(
        "--trust-state-file",
        action="store_true",
        help="resolve the state file's secrets even if others can change it (a state file is "
        "code: its { command = … } secrets run programs); without this, such a file's "
        "secrets are refused",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _usage_error(exc)
    trust_state_files(args.trust_state_file)
    try:
        if args.command is None:
            from fedi_tui.cli.tuicmd import run_tui  # Textual loads only for the TUI

            return run_tui(args)
        if args.read_only and getattr(args, "mutates", False):
            raise FediError(
                f"--read-only: `{args.command}` would change the state file; "
                "run it without --read-only"
            )
        code: int = args.func(args)
        return code
    except FediError as exc:
        print(f"fedi-tui: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("fedi-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_USER
    except Exception as exc:
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    crash_dir = user_dirs().state / "crashes"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        crash_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = crash_dir / f"crash-{stamp}.log"
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f"full trace in {log}"
    except OSError:
        where = "the trace could not be saved"
    print(
        f"fedi-tui: internal error ({type(exc).__name__}); {where}. Please report it.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
