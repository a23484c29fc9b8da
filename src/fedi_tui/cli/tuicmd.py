"""Start the Textual app (imported only when the TUI is asked for)."""

from __future__ import annotations

import argparse

from fedi_tui.cli.common import EXIT_OK, load


def run_tui(args: argparse.Namespace) -> int:
    loaded = load(args)
    from fedi_tui.tui.app import FediApp

    FediApp(loaded, read_only=args.read_only).run()
    return EXIT_OK
