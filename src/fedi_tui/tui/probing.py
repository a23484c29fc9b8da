"""Connection tests in the App: what it remembers per entry (the target tested and its
report), running a test as an App job, and pinning what a test showed.

A test belongs to the exact target it was made for: a result that arrives after its
entry changed is dropped, and a pin is refused unless the report is the entry's current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fedi_tui.core.probes import ProbeReport, ProbeTarget

if TYPE_CHECKING:
    from fedi_tui.core.probes import Prober
    from fedi_tui.core.state.file import LoadedState
    from fedi_tui.tui.app import FediApp


@dataclass(frozen=True)
class ProbeView:
    """The last test of one entry: running, or its report. Valid only for `target`."""

    target: ProbeTarget
    running: bool
    report: ProbeReport | None = None


def probe_key(section: str, name: str) -> str:
    return f"{section}/{name}"


def fresh_probes(probes: Mapping[str, ProbeView], loaded: LoadedState) -> dict[str, ProbeView]:
    """The tests that still describe their entry in `loaded`: same endpoint, same trust."""
    from fedi_tui.core.probes import probe_target

    kept = {}
    for key, view in probes.items():
        section, _, name = key.partition("/")
        entries = getattr(loaded.spec, section, None) or {}
        if name in entries and probe_target(loaded.spec, loaded.path, section, name) == (
            view.target
        ):
            kept[key] = view
    return kept


def start_test(app: FediApp, prober: Prober, section: str, name: str) -> None:
    """Test an entry's endpoint in an App job; `app.probes` shows it running, then its report."""
    from fedi_tui.core.probes import probe_target

    key = probe_key(section, name)
    target = probe_target(app.state.spec, app.path, section, name)
    app.probes = {**app.probes, key: ProbeView(target, running=True)}

    def finished(report: ProbeReport) -> None:
        view = app.probes.get(key)
        if view is not None and view.target == report.target:  # else the entry changed
            app.probes = {**app.probes, key: ProbeView(report.target, False, report)}

    def failed() -> None:
        app.probes = {k: v for k, v in app.probes.items() if k != key}

    app.start_job(
        prober.check(target),
        name=f"test connection to {target.entry}",
        group=f"probe {key}",
        done=finished,
        failed=failed,
    )


def pin(app: FediApp, report: ProbeReport) -> None:
    """Save what `report` showed into its entry (the person confirmed it), then keep showing
    the report for the entry as pinned."""
    from fedi_tui.core.probes import after_pin, probe_target
    from fedi_tui.core.views.forms import pin_edits
    from fedi_tui.tui import messages

    target = report.target
    key = probe_key(target.section, target.name)
    view = app.probes.get(key)
    if view is None or view.report is not report:
        app.notify("The entry changed since the test: test it again (t).", severity="warning")
        return
    result = report.result
    edits = pin_edits(
        target.section,
        target.name,
        app.state.data,
        fingerprint=result.tls_fingerprint,
        host_key=result.ssh_host_key,
    )

    def pinned(new: LoadedState) -> None:
        now = probe_target(new.spec, new.path, target.section, target.name)
        app.probes = {**app.probes, key: ProbeView(now, False, after_pin(report, now))}

    app.post_message(messages.SaveEdits(edits, f"pinned identity of {target.entry}", then=pinned))
