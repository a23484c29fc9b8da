""".ci/run: lint, format and strict type checks run before the tests, and each can fail CI.

The script is run from a scratch copy of the repository layout whose `.ci/setup`
does nothing and whose `.venv/bin` tools only log how they were called and exit
with the status the test chooses: this checks the script's order and exit codes,
not the tools (the real ones run in CI itself).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tool(path: Path, log: Path, status: int) -> None:
    path.write_text(f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\nexit {status}\n')
    path.chmod(0o755)


def _run_ci(tmp_path: Path, **status: int) -> tuple[int, list[str], str]:
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_bytes((REPO / ".ci" / "run").read_bytes())
    (tmp_path / ".ci" / "setup").write_text("exit 0\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    log.touch()
    for name in ("ruff", "mypy", "python"):
        _tool(bin_dir / name, log, status.get(name, 0))
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=60
    )
    return done.returncode, log.read_text().splitlines(), done.stderr


def test_checks_run_before_the_tests(tmp_path: Path) -> None:
    code, calls, _ = _run_ci(tmp_path)
    assert code == 0
    assert calls == [
        "ruff check src tests",
        "ruff format --check src tests",
        "mypy ",
        "python -m pytest",
    ]


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_a_failing_check_fails_ci_and_the_tests_do_not_run(tmp_path: Path, tool: str) -> None:
    code, calls, err = _run_ci(tmp_path, **{tool: 1})
    assert code == 1
    assert not any(call.startswith("python") for call in calls)
    assert "ci: failed: .venv/bin/" + tool in err


def test_no_tests_collected_is_a_failure(tmp_path: Path) -> None:
    code, _, err = _run_ci(tmp_path, python=5)
    assert code == 1 and "collected no tests" in err


def test_the_mypy_configuration_is_strict() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert "[tool.mypy]\nstrict = true" in text
