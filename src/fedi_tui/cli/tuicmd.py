"""Start the Textual app (imported only when the TUI is asked for), wired to the adapters."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from fedi_tui.cli.common import EXIT_OK, EXIT_USER, state_path

if TYPE_CHECKING:
    from fedi_tui.core.deploy.ports import Ports
    from fedi_tui.core.workspace import Workspace


def _ports(workspace: Workspace) -> Ports:
    """The CLI's adapters for a deployment started in the TUI (imported when one starts,
    not before the first frame)."""
    from fedi_tui.cli.wiring import build_ports

    return build_ports(workspace)


def run_tui(args: argparse.Namespace, *, mode: str = "dashboard", setup_only: bool = False) -> int:
    from fedi_tui.adapters.prober import NetworkProber
    from fedi_tui.tui.factory import build_app

    path = state_path(args)
    if not path.exists():  # say so before taking over the terminal
        from fedi_tui.core.state.file import load_state

        load_state(path)  # raises the "no such state file" error
    app = build_app(
        path,
        prober=None if setup_only else NetworkProber(),
        read_only=args.read_only,
        mode=mode,
        setup_only=setup_only,
        preload=False,
        ports=None if setup_only else _ports,
    )
    result = app.run()
    if app.load_error is not None:
        print(f"fedi-tui: {app.load_error}", file=sys.stderr)
        return EXIT_USER
    if result:
        print(result)
    return EXIT_OK
