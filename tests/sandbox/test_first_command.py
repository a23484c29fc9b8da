"""The README's first command in a real terminal (tmux, 80×24): `fedi-tui sandbox up --open`
opens the TUI on the sandbox, the Deployments area (6) applies the plan, `q` quits, and the
sandbox is stopped afterwards. (`bash .ci/setup &&`, its first half, is left out: it is
what made this test's environment.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fedi_tui.sandbox.layout import machines_dir
from fedi_tui.sandbox.records import read_records, remaining
from tests.tui.test_tmux import start

pytestmark = [
    pytest.mark.real,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_sandbox_up_open_applies_from_the_deployments_area_and_stops(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "fedi-tui" / "sandbox"  # the default: $XDG_STATE_HOME/…
    tmux = start(tmp_path, "sandbox up --open")
    try:
        shown = tmux.wait_for("Sandbox Hosting A", timeout=90)
        assert "SANDBOX" in shown.splitlines()[0]
        records = read_records(directory)
        assert remaining(records)
        tmux("send-keys", "-t", "fedi", "6")
        tmux.wait_for("Plan: ", timeout=30)
        tmux("send-keys", "-t", "fedi", "a")
        tmux.wait_for("Apply this plan?")
        tmux("send-keys", "-t", "fedi", "y")
        shown = tmux.wait_for("succeeded", timeout=180)
        assert "failed" not in shown
        tmux("send-keys", "-t", "fedi", "q")
        shown = tmux.wait_for("EXITED=", timeout=60)
        assert "EXITED=0" in shown and "Sandbox stopped" in shown, shown
    finally:
        tmux("kill-server")
        from fedi_tui.sandbox.control import down

        down(directory)
    assert not remaining(records)
    assert not directory.exists() and not machines_dir(directory).exists()
