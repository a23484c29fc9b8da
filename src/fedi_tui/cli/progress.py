"""The CLI's consumer of engine events: one line per event, machine-prefixed, and a summary."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from fedi_tui.core.deploy.events import Event, MachineState, RunFinished
from fedi_tui.core.views.logs import row

_COLOUR = {"error": "31", "warning": "33", "debug": "2"}
_STATE_COLOUR = {"done": "32", "failed": "31", "rolled-back": "33", "interrupted": "33"}


class Printer:
    """Prints each event as it comes (colour only on a terminal)."""

    def __init__(self, out: TextIO | None = None, *, machines: tuple[str, ...] = ()) -> None:
        self.out = out or sys.stdout
        self.colour = self.out.isatty()
        self.width = max((len(m) for m in machines), default=0)

    def paint(self, text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if code and self.colour else text

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            return  # the summary table says it
        r = row(event)
        machine = self.paint(f"[{r.machine}]".ljust(self.width + 2), "36") if r.machine else ""
        text = self.paint(r.text, _COLOUR.get(r.level))
        print(f"{machine} {text}".rstrip() if machine else text, file=self.out, flush=True)


def summary_table(
    deployment: str,
    outcome: str,
    machines: Mapping[str, MachineState],
    messages: Mapping[str, str],
    hashes: Mapping[str, str | None],
    printer: Printer,
) -> None:
    out = printer.out
    print(file=out)
    print(f"Deployment {deployment}: {outcome}", file=out)
    if not machines:
        return
    width = max(len("MACHINE"), *(len(m) for m in machines))
    print(f"  {'MACHINE'.ljust(width)}  {'STATE':<12} {'CONFIG':<12}  MESSAGE", file=out)
    for name, state in machines.items():
        config = (hashes.get(name) or "-")[:12]
        message = messages.get(name, "").splitlines()[0] if messages.get(name) else ""
        painted = printer.paint(f"{state:<12}", _STATE_COLOUR.get(state))
        print(f"  {name.ljust(width)}  {painted} {config:<12}  {message}", file=out)
