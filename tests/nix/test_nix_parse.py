"""Every .nix file in the repository's nix/ (and the test helpers) parses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.nix.fediversity_options import HERE, REPO, nix_eval_json

NIX_FILES = sorted((REPO / "nix").rglob("*.nix")) + sorted(HERE.glob("*.nix"))


def _parse(*files: Path) -> subprocess.CompletedProcess[str]:
    command = ["nix-instantiate", "--store", "dummy://", "--parse", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def test_there_is_something_to_parse() -> None:
    assert REPO / "nix" / "flake.nix" in NIX_FILES
    assert REPO / "nix" / "modules" / "fediversity" / "default.nix" in NIX_FILES


def test_all_nix_files_parse() -> None:
    if _parse(*NIX_FILES).returncode == 0:
        return
    # nix-instantiate stops at the first bad file: find all of them.
    failures = {f: r.stderr.strip() for f in NIX_FILES if (r := _parse(f)).returncode != 0}
    report = "\n\n".join(f"{f.relative_to(REPO)}:\n{err}" for f, err in failures.items())
    pytest.fail(f"{len(failures)} file(s) do not parse:\n{report}")


def test_flake_exposes_the_module(tmp_path: Path) -> None:
    """nixosModules.fediversity and .default are the same module; no inputs needed."""
    probe = tmp_path / "probe.nix"
    probe.write_text(
        f"""
        let
          flake = import {REPO / "nix" / "flake.nix"};
          self = flake.outputs {{ inherit self; }};
        in {{
          inputs = builtins.attrNames (flake.inputs or {{ }});
          modules = builtins.attrNames self.nixosModules;
          same = self.nixosModules.default == self.nixosModules.fediversity;
          imports = map toString self.nixosModules.default.imports;
        }}
        """
    )
    result = nix_eval_json(probe)
    assert result["inputs"] == []
    assert result["modules"] == ["default", "fediversity"]
    assert result["same"] is True
    module_dir = REPO / "nix" / "modules" / "fediversity"
    assert sorted(result["imports"]) == sorted(
        str(module_dir / f"{name}.nix")
        for name in ("common", "hold", "mastodon", "peertube", "pixelfed")
    )
