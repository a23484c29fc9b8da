"""Benchmark: the log view fed by a producer as fast as it can go, and a 1,000,000-line log.

    .venv/bin/python -m tests.bench.bench_logs [LINES]

Prints (goals in brackets):
  - lines/s the log screen ingests while another process appends to the log as
    fast as it can (>= 100,000), until every line is in the view;
  - the worst interval between two frames the app could draw while ingesting: the
    longest gap of a 60 Hz timer on the App, i.e. how long the event loop was
    blocked (< 50 ms), and the worst gap between two batches handed to the view;
  - the time to apply a regex filter over 1,000,000 lines (< 1 s), plus invert,
    machine and level filters;
  - peak memory (max RSS of a fresh process) holding a 1,000,000-line log in a
    LogStore, filtered (< 200 MB), and of the app that followed the producer.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fixtures.logs import DEPLOYMENT, line, run_events, started

ROOT = Path(__file__).resolve().parents[2]
MILLION = 1_000_000

VIEWER = """
import json, resource, sys, time
from pathlib import Path
from textual.app import App
from fedi_tui.tui.screens import logs
from fedi_tui.tui.screens.logs import LogsScreen

path, total = Path(sys.argv[1]), int(sys.argv[2])
gaps, batches = [], []
caught = logs.LogsScreen._catch_up

def catch_up(self):
    before = self.log_view.count
    caught(self)
    if self.log_view.count != before:
        batches.append(time.perf_counter())

logs.LogsScreen._catch_up = catch_up

class Viewer(App[None]):
    def on_mount(self):
        self.screen_ = LogsScreen(path)
        self.push_screen(self.screen_)
        self.last = None
        self.first = None
        self.set_interval(1 / 60, self.tick)
        print("ready", flush=True)

    def tick(self):
        now = time.perf_counter()
        view = self.screen_.log_view
        if self.first is None and view.count > 1:
            self.first = now
        if self.first is not None and self.last is not None:
            gaps.append(now - self.last)
        self.last = now
        if view.count >= total:
            took = now - self.first
            batch_gaps = [b - a for a, b in zip(batches, batches[1:])]
            print(json.dumps({
                "took": took, "lines": view.count,
                "worst_gap": max(gaps, default=0.0),
                "worst_batch_gap": max(batch_gaps, default=0.0),
                "batches": len(batches),
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }), flush=True)
            self.exit()

Viewer().run(headless=True, size=(120, 40))
"""

STORE = """
import json, re, resource, sys, time
from pathlib import Path
from fedi_tui.core.views.logs import LogFilter
from fedi_tui.core.views.logstore import LogStore

store = LogStore(Path(sys.argv[1]))
t0 = time.perf_counter()
n = store.read_all()
ingest = time.perf_counter() - t0
times = {}
for name, keep in {
    "regex": LogFilter.make(r"unit-1[0-3]\\.service"),
    "regex, inverted": LogFilter.make(r"unit-1[0-3]\\.service", invert=True),
    "machine": LogFilter.make(machine="db-1"),
    "level >= info": LogFilter.make(level="info"),
    "regex + machine": LogFilter.make(r"line \\d+7 ", machine="web-1"),
}.items():
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        kept = store.select(keep)
        runs.append(time.perf_counter() - t)
    times[name] = (sorted(runs)[1], len(kept))
rows = [store.row(i) for i in range(0, n, n // 1000)]  # scrolled to all over the log
print(json.dumps({"lines": n, "ingest": ingest, "filters": times,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def million_line_log(directory: Path) -> Path:
    path = directory / f"{DEPLOYMENT}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for event in run_events(MILLION):
            f.write(event.to_json() + "\n")
    return path


def child(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def follow(directory: Path, lines: int) -> dict[str, float]:
    """A viewer app follows while this process appends `lines` lines as fast as it can."""
    path = directory / "followed.jsonl"
    payload = [line(n).to_json() + "\n" for n in range(lines)]
    with path.open("w", encoding="utf-8") as f:
        f.write(started(pid=os.getpid()).to_json() + "\n")
    viewer = child(VIEWER, str(path), str(lines + 1))
    assert viewer.stdout is not None
    assert viewer.stdout.readline() == "ready\n"
    time.sleep(0.5)  # the viewer's first frame is drawn: now the burst
    t0 = time.perf_counter()
    with path.open("a", encoding="utf-8") as f:
        for start in range(0, lines, 1000):
            f.write("".join(payload[start : start + 1000]))
            f.flush()
    written = time.perf_counter() - t0
    result: dict[str, float] = json.loads(viewer.stdout.readline())
    viewer.wait()
    result["written"] = written
    return result


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        runs = [follow(directory, lines) for _ in range(3)]
        rate = statistics.median(r["lines"] / r["took"] for r in runs)
        gaps = sorted(r["worst_gap"] * 1000 for r in runs)
        batch_gaps = sorted(r["worst_batch_gap"] * 1000 for r in runs)
        print(f"producer: {lines:,} lines appended in {runs[0]['written']:.2f} s (first run)")
        print(f"log screen ingest:     {rate:>10,.0f} lines/s (median of 3; goal >= 100,000)")
        each = " / ".join(f"{g:.0f}" for g in gaps)
        print(f"worst frame interval:  {each} ms in the 3 runs, while ingesting (goal < 50 ms)")
        each = " / ".join(f"{g:.0f}" for g in batch_gaps)
        print(f"worst batch interval:  {each} ms between two view updates (tick: 50 ms)")
        print(f"viewer max RSS:        {max(r['maxrss_kb'] for r in runs) / 1024:>10.0f} MB")

        path = million_line_log(directory)
        proc = child(STORE, str(path))
        out, _ = proc.communicate()
        store = json.loads(out)
        size = path.stat().st_size / 1e6
        print(f"\n1,000,000-line log ({size:.0f} MB), {store['lines']:,} lines:")
        print(f"index (LogStore.read_all): {store['ingest']:.2f} s")
        for name, (took, kept) in store["filters"].items():
            print(f"filter {name:<17} {took * 1000:7.0f} ms  ({kept:,} lines kept; goal < 1000 ms)")
        print(f"peak memory (max RSS):     {store['maxrss_kb'] / 1024:.0f} MB (goal < 200 MB)")


if __name__ == "__main__":
    main()
