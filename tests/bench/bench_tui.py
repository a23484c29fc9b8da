"""Benchmark: time to first frame of `fedi-tui` on the large state vs a bare Textual app.

    .venv/bin/python -m tests.bench.bench_tui

Each run is a fresh interpreter (imports included), timed from spawn until the
app has drawn its first frame and exited; both apps run headless, alternately,
in this one run. Prints the medians and their ratio (goal: <= 1.5x).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.gen_large_state import large_state_text

RUNS = 7

BARE = """
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App[None]):
    def compose(self):
        yield Static("hello")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self.exit)

Bare().run(headless=True)
"""

FEDI = """
import sys
from pathlib import Path
from fedi_tui.tui.factory import build_app
from fedi_tui.tui.screens.dashboard import DashboardScreen

shown = DashboardScreen.on_mount

def on_mount(self):
    shown(self)
    self.call_after_refresh(self.app.exit)  # the dashboard with its rows has been drawn

DashboardScreen.on_mount = on_mount
build_app(Path(sys.argv[1]), remember_theme=False).run(headless=True)
"""


def first_frame(code: str, *args: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        state = tmp / "fedi.toml"
        state.write_text(large_state_text(), encoding="utf-8")
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_STATE_HOME": str(tmp)}
        first_frame(BARE, env=env)  # warm the file cache once for both
        first_frame(FEDI, str(state), env=env)
        bare, fedi = [], []
        for _ in range(RUNS):
            bare.append(first_frame(BARE, env=env))
            fedi.append(first_frame(FEDI, str(state), env=env))
        b, f = statistics.median(bare), statistics.median(fedi)
        print(f"large state: {state.stat().st_size:,} bytes, 500 operators, 1,500 app instances")
        print(f"bare Textual app, first frame:     {b * 1000:7.0f} ms (median of {RUNS})")
        print(f"fedi-tui dashboard, first frame:   {f * 1000:7.0f} ms (median of {RUNS})")
        print(f"ratio: {f / b:.2f}x (goal <= 1.5x)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
