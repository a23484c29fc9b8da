"""Start the Textual app (imported only when the TUI is asked for)."""

from __future__ import annotations

import argparse

from fedi_tui.cli.common import EXIT_OK, state_path


def run_tui(args: argparse.Namespace, *, mode: str = "dashboard", setup_only: bool = False) -> int:
    from fedi_tui.tui.factory import build_app

    app = build_app(state_path(args), read_only=args.read_only, mode=mode, setup_only=setup_only)
    result = app.run()
    if result:
        print(result)
    return EXIT_OK
