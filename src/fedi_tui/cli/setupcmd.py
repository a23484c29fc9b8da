"""setup: the guided set-up of a new operator (the wizard of the TUI, on its own)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup",
        help="add an operator with a guided set-up (apps, domain, admin, size)",
        description="Open the guided set-up: choose applications, the operator's domain, the "
        "first admin account and a size, review the result, then save it into the state "
        "file. Nothing is written before the final confirmation.",
    )
    p.set_defaults(func=cmd_setup)


def cmd_setup(args: argparse.Namespace) -> int:
    from fedi_tui.cli.tuicmd import run_tui  # Textual loads only here

    if args.read_only:
        from fedi_tui.core.errors import FediError

        raise FediError("setup writes the state file; run it without --read-only")
    return run_tui(args, mode="setup", setup_only=True)
