"""Evaluate configurations under the real NixOS module system (tests/nix/eval-machine.nix).

The module tree is `shared/reference/nixos-tree.tar.gz` beside the repository
(or `$FEDI_TUI_NIXOS_TREE`); it is unpacked once per test session into a temp
dir readable by everyone (the sshd test hosts evaluate as user fedi-test).
Nothing from the tree is copied into the repository. Without the archive the
tests that need it are skipped and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.nix.standin_names import standin_names
from tests.paths import ROOT

HERE = Path(__file__).resolve().parent
EVAL_MACHINE = HERE / "eval-machine.nix"
HARDWARE_STANDIN = HERE / "hardware-configuration.nix"
TREE_ENV = "FEDI_TUI_NIXOS_TREE"
TREE_ARCHIVE = ROOT.parent / "shared" / "reference" / "nixos-tree.tar.gz"
HARNESS = (EVAL_MACHINE, HERE / "standin-pkgs.nix", HERE / "standin_names.py", HARDWARE_STANDIN)
"""What tests/fixtures/nixos-eval-config needs besides the tree."""
HOST_FILES = {"/etc/nixos/hardware-configuration.nix": str(HARDWARE_STANDIN)}
"""Paths only the real NixOS host has, and what stands in for them here."""


def tree_archive() -> Path:
    return Path(os.environ.get(TREE_ENV, TREE_ARCHIVE))


def missing_reason() -> str | None:
    """Why the NixOS evaluation tests cannot run here, or None when they can."""
    archive = tree_archive()
    if not archive.is_file():
        return (
            f"NixOS module tree {archive} is absent (it comes with shared/reference beside "
            f"the repository; set {TREE_ENV} to use another copy)"
        )
    if shutil.which("nix-instantiate") is None:
        return "nix-instantiate is not installed (Debian package nix-bin)"
    return None


@dataclass(frozen=True)
class NixosTree:
    """An unpacked module tree with the stand-in package names read from it."""

    root: Path
    names: Path

    def close(self) -> None:
        shutil.rmtree(self.root.parent, ignore_errors=True)


def unpack_tree(archive: Path | None = None) -> NixosTree:
    """Unpack the tree into a new world-readable temp dir (BASE/tree), with its names.json
    and a copy of the evaluation harness beside it (BASE/names.json, BASE/harness)."""
    base = Path(tempfile.mkdtemp(prefix="fedi-nixos-tree-"))
    base.chmod(0o755)
    root = base / "tree"
    with tarfile.open(archive or tree_archive()) as tar:
        tar.extractall(root, filter="data")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    names = base / "names.json"
    names.write_text(json.dumps(standin_names(root), sort_keys=True))
    harness = base / "harness"  # for a nixos-eval-config copied away from the repository
    harness.mkdir()
    for path in HARNESS:
        shutil.copyfile(path, harness / path.name)
    for path in [names, harness, *harness.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return NixosTree(root, names)


class EvaluationFailed(AssertionError):
    """nix-instantiate did not evaluate (an unknown option, a type error, …)."""


def command(tree: NixosTree, configs: Mapping[str, Path]) -> list[str]:
    return [
        "nix-instantiate",
        "--store",
        "dummy://",
        "--eval",
        "--strict",
        "--json",
        str(EVAL_MACHINE),
        "-I",
        f"nixpkgs={tree.root}",
        "--argstr",
        "tree",
        str(tree.root),
        "--argstr",
        "names",
        str(tree.names),
        "--argstr",
        "hostFiles",
        json.dumps(HOST_FILES),
        "--argstr",
        "configs",
        json.dumps({name: str(path.resolve()) for name, path in configs.items()}),
    ]


def evaluate(tree: NixosTree, configs: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Evaluate several configuration.nix files in one call; by name: failedAssertions,
    warnings, toplevel (outPath) and values (see eval-machine.nix)."""
    proc = subprocess.run(
        command(tree, configs),
        capture_output=True,
        text=True,
        env={**os.environ, "NIX_PATH": ""},
        check=False,
    )
    if proc.returncode != 0:  # stdout may hold partial JSON: never read it then
        errors = [line for line in proc.stderr.splitlines() if "evaluation warning" not in line]
        raise EvaluationFailed("\n".join(errors[-40:]))
    result: dict[str, dict[str, Any]] = json.loads(proc.stdout)
    return result
