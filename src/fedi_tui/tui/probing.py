"""What the App remembers of connection tests: per entry, the target tested and its report."""

from __future__ import annotations

from dataclasses import dataclass

from fedi_tui.core.probes import ProbeReport, ProbeTarget


@dataclass(frozen=True)
class ProbeView:
    """The last test of one entry: running, or its report. Valid only for `target`."""

    target: ProbeTarget
    running: bool
    report: ProbeReport | None = None


def probe_key(section: str, name: str) -> str:
    return f"{section}/{name}"
