"""Evaluate the fediversity NixOS module without nixpkgs.

The module is evaluated by `nix-instantiate` with a stub `lib`
(stub-lib.nix), so only the module's own code runs:

- `fediversity_options()` lists the declared `fediversity.*` options with
  their type (e.g. "str", {"enum": [...]}, {"listOf": "str"}) and default.
  The Python drift test compares this with the Python models.
- `fediversity_config(values)` evaluates what the module sets for the given
  `fediversity` values (eval-config.nix resolves mkIf/mkMerge/mkDefault).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODULE_DIR = REPO / "nix" / "modules" / "fediversity"

# Upstream option values the modules read from `config.services` (their defaults).
UPSTREAM_DEFAULTS: dict[str, Any] = {
    "mastodon": {
        "user": "mastodon",
        "group": "mastodon",
        # what hold.nix reads to name the units it holds
        "streamingProcesses": 1,
        "sidekiqProcesses": {"all": {}},
        "mediaAutoRemove": {"enable": True},
    },
    "peertube": {"user": "peertube", "group": "peertube"},
    "pixelfed": {"user": "pixelfed", "group": "pixelfed"},
}


class NixEvalError(RuntimeError):
    """nix-instantiate failed; the message carries its stderr."""


def nix_available() -> bool:
    return shutil.which("nix-instantiate") is not None


def nix_eval_json(expression_file: Path, **argstrs: str) -> Any:
    """`nix-instantiate --eval --strict --json` of a file taking string arguments."""
    command = ["nix-instantiate", "--store", "dummy://", "--eval", "--strict", "--json"]
    command.append(str(expression_file))
    for name, value in argstrs.items():
        command += ["--argstr", name, value]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise NixEvalError(
            f"{expression_file.name} failed (exit {result.returncode}):\n{result.stderr.strip()}"
        )
    return json.loads(result.stdout)


def fediversity_options(
    module: Path = MODULE_DIR, *, with_descriptions: bool = False
) -> dict[str, dict[str, Any]]:
    """{"fediversity.<path>": {"type": ..., "default"?: ..., "description"?: ...}}."""
    declared: dict[str, dict[str, Any]] = nix_eval_json(
        HERE / "eval-options.nix", module=str(module)
    )
    keep = {"type", "default"} | ({"description"} if with_descriptions else set())
    return {
        path: {key: value for key, value in declaration.items() if key in keep}
        for path, declaration in declared.items()
        if path.startswith("fediversity.")
    }


def fediversity_config(
    fediversity: Mapping[str, Any],
    *,
    services: Mapping[str, Any] = UPSTREAM_DEFAULTS,
    module: Path = MODULE_DIR,
) -> dict[str, Any]:
    """The merged option definitions the module makes for these `fediversity` values."""
    evaluated: dict[str, Any] = nix_eval_json(
        HERE / "eval-config.nix",
        module=str(module),
        fediversity=json.dumps(fediversity),
        services=json.dumps(services),
    )
    return evaluated
