"""Benchmark: deploy to 20 real sshd hosts whose activation takes 2 s each.

    .venv/bin/python -m tests.bench.bench_apply        (as root: it starts sshd hosts)

Prints, from one run each: the wall time at --parallel 20 vs one host (goal
<= 1.3x), vs --parallel 1, and the engine's own time per step beyond the SSH
round trips (goal < 20 ms): wall time at --parallel 1 minus the time spent
inside the machine port's calls, divided by the steps run. On one machine the
20 "hosts" share its cores with fedi-tui (each login, nix-instantiate and shell
runs here), so fedi-tui's own CPU time is printed too, and the whole machine's: its
busy core-seconds during the run (from /proc/stat) divided by its cores is a floor
under the wall time on this machine. Then once more with hosts whose nixos-rebuild
does not parse (`no-parse`): a real machine evaluates on its own CPU, not on fedi-tui's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from fedi_tui.core.deploy.ports import LineSink, MachineEndpoint, MachineShell
from tests.deploy.conftest import write_state
from tests.deploy.engine_support import Collected, make_engine
from tests.fixtures.deployhosts import DeployHost, HealthServer, running_deploy_host

HOSTS = 20
ACTIVATION_SECONDS = 2


class Timed:
    """Wraps the engine's machine connector; adds up the time spent in its calls."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.seconds = 0.0

    async def connect(self, endpoint: MachineEndpoint) -> MachineShell:
        t0 = time.perf_counter()
        shell = await self.inner.connect(endpoint)  # type: ignore[attr-defined]
        self.seconds += time.perf_counter() - t0
        return _TimedShell(shell, self)


class _TimedShell:
    def __init__(self, shell: MachineShell, timer: Timed) -> None:
        self._shell, self._timer, self.target = shell, timer, shell.target

    async def _timed(self, coro: object) -> object:
        t0 = time.perf_counter()
        try:
            return await coro  # type: ignore[misc]
        finally:
            self._timer.seconds += time.perf_counter() - t0

    async def run(
        self, argv: Sequence[str], *, on_line: LineSink | None = None, check: bool = True
    ) -> int:
        return await self._timed(self._shell.run(argv, on_line=on_line, check=check))  # type: ignore[return-value]

    async def put_file(self, path: str, data: bytes, *, mode: int = 0o600) -> None:
        await self._timed(self._shell.put_file(path, data, mode=mode))

    async def push_tree(
        self, files: Mapping[str, str], remote_dir: str, *, mode: int = 0o600
    ) -> object:
        return await self._timed(self._shell.push_tree(files, remote_dir, mode=mode))

    async def remove_tree(self, remote_dir: str) -> bool:
        return await self._timed(self._shell.remove_tree(remote_dir))  # type: ignore[return-value]

    async def close(self) -> None:
        await self._timed(self._shell.close())


def evaluate_on_hosts(targets: list[DeployHost], on: bool) -> None:
    """Whether the hosts' nixos-rebuild parses what it gets (on this machine's cores)."""
    for host in targets:
        if on:
            (host.state / "control" / "no-parse").unlink(missing_ok=True)
        else:
            host.tell("no-parse")


@contextlib.contextmanager
def hosts(base: Path, n: int, health: HealthServer) -> Iterator[list[DeployHost]]:
    with contextlib.ExitStack() as stack:
        out = []
        for i in range(n):
            address = f"127.0.0.{100 + i}"
            host = stack.enter_context(
                running_deploy_host(base / address, address=address, health=health)
            )
            host.tell("sleep-switch", str(ACTIVATION_SECONDS))
            out.append(host)
        yield out


def busy_core_seconds() -> float:
    """Core-seconds this machine has spent busy since boot (all processes), from /proc/stat."""
    with open("/proc/stat") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def deploy(
    base: Path, targets: list[DeployHost], parallel: int
) -> tuple[float, float, int, float, float]:
    """(wall seconds, seconds inside the machine port, steps run, fedi-tui's CPU seconds,
    the whole machine's busy core-seconds)."""
    run_dir = Path(tempfile.mkdtemp(dir=base))
    for host in targets:  # a fresh machine each time
        shutil.rmtree(host.state / "nix", ignore_errors=True)
    path = write_state(run_dir, targets)
    sink = Collected()
    engine = make_engine(path, sink, parallel=parallel)
    timer = Timed(engine.ports.machines)
    engine.ports = type(engine.ports)(
        machines=timer,
        storage=engine.ports.storage,
        objects=engine.ports.objects,
        hypervisors=engine.ports.hypervisors,
    )
    busy0, cpu0, t0 = busy_core_seconds(), time.process_time(), time.perf_counter()
    result = asyncio.run(engine.run())
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    busy = busy_core_seconds() - busy0
    assert result.outcome == "succeeded", result.messages
    return wall, timer.seconds, len(engine.steps), cpu, busy


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="fedi-bench-apply-"))
    health = HealthServer()
    cores = os.cpu_count() or 1
    try:
        with hosts(base, HOSTS, health) as targets:
            one, *_ = deploy(base, targets[:1], parallel=1)
            wide, _, _, cpu, busy = deploy(base, targets, parallel=HOSTS)
            serial, inside, steps, _, _ = deploy(base, targets, parallel=1)
            evaluate_on_hosts(targets, on=False)
            alone, *_ = deploy(base, targets[:1], parallel=1)
            apart, _, _, apart_cpu, apart_busy = deploy(base, targets, parallel=HOSTS)
        print(f"1 host: {one:.2f} s (activation {ACTIVATION_SECONDS} s)")
        print(
            f"{HOSTS} hosts at --parallel {HOSTS}: {wide:.2f} s = {wide / one:.2f}x one host "
            "(goal <= 1.3x)"
        )
        print(
            f"  fedi-tui's own CPU for the {HOSTS}: {cpu:.2f} s; the whole machine was busy "
            f"{busy:.2f} core-seconds (the hosts' sshd, shells and nix-instantiate besides), "
            f"so this run's work needs at least {busy / cores:.2f} s on its {cores} cores "
            f"= {busy / cores / one:.2f}x one host"
        )
        print(
            f"{HOSTS} hosts whose nixos-rebuild does not parse here (as machines with CPUs of "
            f"their own; sshd and the shells still run here): 1 host {alone:.2f} s, "
            f"{HOSTS} hosts {apart:.2f} s = {apart / alone:.2f}x (goal <= 1.3x); fedi-tui's "
            f"CPU {apart_cpu:.2f} s, the machine busy {apart_busy:.2f} core-seconds"
        )
        print(
            f"{HOSTS} hosts at --parallel 1: {serial:.2f} s = "
            f"{serial / wide:.1f}x --parallel {HOSTS}"
        )
        overhead = (serial - inside) / steps
        print(
            f"engine overhead beyond the SSH calls: {overhead * 1000:.1f} ms per step over "
            f"{steps} steps (goal < 20 ms)"
        )
    finally:
        health.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
