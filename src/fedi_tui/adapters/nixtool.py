"""Nix on this machine: `nix-instantiate` to parse files and evaluate data.

Always with `--store dummy://`, so it needs no daemon, no /nix and no root.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_tui.core.errors import FediError

_BASE = ("nix-instantiate", "--store", "dummy://")
_WHERE = re.compile(r"at (/[^\s:]+\.nix):(\d+):(\d+)")


@dataclass(frozen=True)
class NixSyntaxError:
    file: Path
    line: int
    col: int
    message: str


def _binary() -> str:
    found = shutil.which(_BASE[0])
    if found is None:
        raise FediError(
            "nix-instantiate was not found; install Debian's nix-bin (apt install nix-bin)"
        )
    return found


def _run(args: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_binary(), *_BASE[1:], *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def parse_files(paths: Sequence[Path]) -> list[NixSyntaxError]:
    """Parse every file; one batched call, then file by file only to find every bad one."""
    if not paths:
        return []
    if _run(["--parse", *map(str, paths)]).returncode == 0:
        return []
    errors = []
    for path in paths:
        done = _run(["--parse", str(path)])
        if done.returncode != 0:
            m = _WHERE.search(done.stderr)
            line, col = (int(m.group(2)), int(m.group(3))) if m else (0, 0)
            message = done.stderr.strip().splitlines()[0] if done.stderr.strip() else "parse failed"
            errors.append(NixSyntaxError(path, line, col, message))
    return errors


def eval_json(expression: str) -> Any:
    """Evaluate a Nix expression strictly and return it as JSON data."""
    done = _run(["--eval", "--strict", "--json", "-E", expression])
    if done.returncode != 0:  # stdout may hold partial JSON: never read it then
        raise FediError(f"nix evaluation failed: {done.stderr.strip()}")
    return json.loads(done.stdout)
