"""The one way to build the app: used by `fedi-tui`, `fedi-tui setup` and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fedi_tui.tui.app import FediApp

if TYPE_CHECKING:
    from collections.abc import Callable

    from fedi_tui.core.probes import Prober
    from fedi_tui.tui.deployrun import PortsFactory


def build_app(
    state: Path,
    *,
    prober: Prober | None,
    read_only: bool = False,
    mode: str = "dashboard",
    theme: str | None = None,
    remember_theme: bool = True,
    setup_only: bool = False,
    preload: bool = True,
    ports: PortsFactory | None = None,
    clock: Callable[[], float] | None = None,
) -> FediApp:
    """Build the app on a state file, with the ports the CLI wires.

    `prober` runs connection tests (the CLI passes `adapters.prober.NetworkProber`;
    None leaves them out); `ports` builds the adapters a deployment uses (the CLI
    passes `cli.wiring.build_ports`; None leaves Apply out). `clock` is "now" for
    elapsed times (tests fix it). With `preload` the file is read now (FediError if it is
    unusable); without it the app draws its first frame at once and reads the file
    behind it — what the `fedi-tui` command does, so a large state never delays the screen.
    `read_only` (or `read_only = true` in the user settings) leaves out every action that
    changes anything, and switches the core's own refusal of writes on for this process.
    """
    from fedi_tui.tui.settings import setting_read_only

    loaded = None
    if preload:
        from fedi_tui.core.state.file import load_state

        loaded = load_state(state)
    return FediApp(
        loaded,
        path=state,
        read_only=read_only or setting_read_only(),
        mode=mode,
        theme=theme,
        remember=remember_theme,
        setup_only=setup_only,
        prober=prober,
        ports=ports,
        clock=clock,
    )
