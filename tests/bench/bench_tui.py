"""Benchmark: time to first frame and to the dashboard's rows, demo and large state, vs a bare
Textual app.

    .venv/bin/python -m tests.bench.bench_tui

Each run is a fresh interpreter (imports included), timed from spawn until the
app reports (on stdout, as a wall-clock time) that the frame in question has
been drawn; all run headless, alternately, in this one run.
Timings, as medians:
  - a bare Textual app's first frame;
  - fedi-tui's first frame, built like the `fedi-tui` command builds it (the
    file is read behind that first frame), cold: the loading screen (warm, the first
    frame is the dashboard's rows, below);
  - fedi-tui until the dashboard has drawn its rows (the operators' rows on
    screen), for sample-configs/demo.toml and for the large state, cold (no first-view
    cache: it is removed before the run) and warm (the cache the run before wrote).
Prints the ratios to the bare app (goals: first frame <= 1.5x, rows <= 2x).
BENCH_RUNS sets the number of runs per case (default 7). The children run with bytecode
caches as a real start does (PYTHONDONTWRITEBYTECODE is taken out of their environment).
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
from tests.paths import DEMO

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

BARE = """
import time
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App[None]):
    def compose(self):
        yield Static("hello")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(drawn, self)

def drawn(app):
    print(time.process_time(), time.time(), flush=True)
    app.exit()

Bare().run(headless=True)
"""

FIRST_FRAME = """
import sys
import time
from pathlib import Path
from fedi_tui.tui.app import FediApp
from fedi_tui.tui.factory import build_app

mounted = FediApp.on_mount

def on_mount(self):
    self.call_after_refresh(drawn, self)  # first in line once the first frame is drawn
    mounted(self)

def drawn(app):
    print(time.process_time(), time.time(), flush=True)
    app.exit()

FediApp.on_mount = on_mount
build_app(Path(sys.argv[1]), prober=None, remember_theme=False, preload=False).run(headless=True)
"""

DASHBOARD = """
import sys
import time
from pathlib import Path
from fedi_tui.tui.factory import build_app
from fedi_tui.tui.screens.dashboard import DashboardScreen

shown = DashboardScreen.on_mount

def on_mount(self):
    shown(self)
    self.call_after_refresh(drawn, self.app)  # the dashboard with its rows has been drawn

def drawn(app):
    print(time.process_time(), time.time(), flush=True)
    app.exit()

DashboardScreen.on_mount = on_mount
build_app(Path(sys.argv[1]), prober=None, remember_theme=False, preload=False).run(headless=True)
"""


def timed(code: str, *args: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawning the interpreter until it printed that the frame was drawn, and
    the CPU seconds it had used by then (all its threads: steadier on a busy machine)."""
    t0 = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, env=env, capture_output=True, text=True
    )
    cpu, wall = done.stdout.split()[-2:]
    return float(wall) - t0, float(cpu)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        state = tmp / "fedi.toml"
        state.write_text(large_state_text(), encoding="utf-8")
        cache = tmp / "cache"
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "XDG_STATE_HOME": str(tmp),
            "XDG_CACHE_HOME": str(cache),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        demo = DEMO  # only read
        cases = {
            "bare": (BARE, ()),
            "first cold": (FIRST_FRAME, (str(state),)),
            "demo cold": (DASHBOARD, (str(demo),)),
            "demo warm": (DASHBOARD, (str(demo),)),
            "large cold": (DASHBOARD, (str(state),)),
            "large warm": (DASHBOARD, (str(state),)),
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}

        def run(name: str) -> tuple[float, float]:
            code, args = cases[name]
            if name.endswith("cold"):
                shutil.rmtree(cache, ignore_errors=True)
            return timed(code, *args, env=env)

        for name in cases:
            run(name)  # warm the file cache (and the bytecode caches)
        for _ in range(RUNS):
            for name in cases:
                runs[name].append(run(name))
        wall = {k: statistics.median(w for w, _ in runs[k]) for k in cases}
        cpu = {k: statistics.median(c for _, c in runs[k]) for k in cases}
        print(f"large state: {state.stat().st_size:,} bytes, 500 operators, 1,500 app instances")
        print(f"medians of {RUNS} runs          wall ms  ratio    CPU ms  ratio")
        titles = {
            "bare": "bare Textual app, first frame",
            "first cold": "fedi-tui, first frame, cold (<= 1.5x)",
            "demo cold": "dashboard rows, demo, cold",
            "demo warm": "dashboard rows, demo, warm (<= 2x)",
            "large cold": "dashboard rows, large, cold",
            "large warm": "dashboard rows, large, warm (<= 2x)",
        }
        for k, title in titles.items():
            print(
                f"{title:<38} {wall[k] * 1000:6.0f}  {wall[k] / wall['bare']:4.2f}x  "
                f"{cpu[k] * 1000:7.0f}  {cpu[k] / cpu['bare']:4.2f}x"
            )
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
