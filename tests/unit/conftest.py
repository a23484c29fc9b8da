"""Fixtures for the state-file robustness tests: the CLI run in-process, output captured."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from fedi_tui.cli import main


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def run_cli(*args: str) -> CliResult:
    """`fedi-tui ARGS` in this process; exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


RunCli = Callable[..., CliResult]


@pytest.fixture
def cli() -> RunCli:
    """Run the command line in-process (stateless, so safe in hypothesis tests too)."""
    return run_cli
