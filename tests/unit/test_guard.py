"""The lock-out guard's shell, run for real with /bin/sh: fires at its deadline, only if needed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from fedi_tui.core.deploy import guard


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "system").symlink_to("system-1-link")
    return {
        "run": tmp_path / "run",
        "profile": profiles / "system",
        "log": tmp_path / "rolled-back",
    }


def arm(machine: dict[str, Path], seconds: int, before: str = "system-1-link") -> None:
    argv = guard.arm(
        "background",
        run_dir=str(machine["run"]),
        deployment="d1",
        seconds=seconds,
        profile=str(machine["profile"]),
        before=before,
        rollback=["sh", "-c", f'echo rolled-back > "{machine["log"]}"'],
    )
    assert run(argv).returncode == 0


def wait_gone(path: Path, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_guard_rolls_back_when_nobody_confirms(machine: dict[str, Path]) -> None:
    arm(machine, seconds=1)
    machine["profile"].unlink()
    machine["profile"].symlink_to("system-2-link")  # the switch moved the profile
    canary = Path(guard.canary_path(str(machine["run"]), "d1"))
    assert canary.exists()
    wait_gone(canary)
    deadline = time.monotonic() + 10
    while not machine["log"].exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert machine["log"].read_text() == "rolled-back\n"


def test_a_confirmed_guard_does_nothing(machine: dict[str, Path]) -> None:
    arm(machine, seconds=1)
    machine["profile"].unlink()
    machine["profile"].symlink_to("system-2-link")
    assert run(guard.disarm(run_dir=str(machine["run"]), deployment="d1")).returncode == 0
    time.sleep(2.5)  # past the deadline: the watcher must have ended without acting
    assert not machine["log"].exists()
    # confirming twice fails: that is how fedi-tui learns the guard fired (or was gone)
    assert run(guard.disarm(run_dir=str(machine["run"]), deployment="d1")).returncode != 0


def test_no_rollback_when_the_switch_never_moved_the_profile(machine: dict[str, Path]) -> None:
    arm(machine, seconds=1)
    canary = Path(guard.canary_path(str(machine["run"]), "d1"))
    wait_gone(canary)
    time.sleep(0.5)
    assert not machine["log"].exists()


def test_extend_moves_the_deadline(machine: dict[str, Path]) -> None:
    arm(machine, seconds=3600)
    canary = Path(guard.canary_path(str(machine["run"]), "d1"))
    far = int(canary.read_text())
    assert (
        run(guard.extend(run_dir=str(machine["run"]), deployment="d1", seconds=1)).returncode == 0
    )
    near = int(canary.read_text())
    assert far - near >= 3598
    machine["profile"].unlink()
    machine["profile"].symlink_to("system-2-link")
    wait_gone(canary)
    deadline = time.monotonic() + 10
    while not machine["log"].exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert machine["log"].exists()
