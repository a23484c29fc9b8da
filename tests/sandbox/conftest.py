"""A sandbox started by `fedi-tui sandbox up` (the real command), for the sandbox's tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedi_tui.sandbox.control import down


def sandbox(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`fedi-tui sandbox ARGS`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "fedi_tui", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start(directory: Path) -> subprocess.CompletedProcess[str]:
    done = sandbox("up", "--dir", str(directory))
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox for the module's tests (its directory); stopped at the end, whatever
    the tests did."""
    directory = tmp_path_factory.mktemp("sandbox") / "sbx"
    start(directory)
    try:
        yield directory
    finally:
        down(directory)
