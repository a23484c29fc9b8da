"""tests/fixtures/nixos-eval-config, and fake-nixos-rebuild with FAKE_NIXOS_TREE set.

The script runs as the sshd test hosts' user (fedi-test) with PATH=/usr/bin:/bin,
on files that user can read: a good configuration passes; a wrong option name,
a wrong type and a failed assertion each fail with the reason on stderr.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedi_tui.core.workspace import Workspace
from tests.fixtures.sshd import FAST_USER
from tests.nix.nixos_eval import NixosTree
from tests.paths import DEMO, DEMO_DEPLOY_KEY, ROOT

pytestmark = pytest.mark.nixos

FIXTURES = ROOT / "tests" / "fixtures"
EVAL_CONFIG = FIXTURES / "nixos-eval-config"
FAKE_REBUILD = FIXTURES / "fake-nixos-rebuild"


def _test_user() -> str | None:
    """fedi-test when it exists and we may switch to it (root), else None (run as we are)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(FAST_USER)
    except KeyError:
        return None
    return FAST_USER


@pytest.fixture(scope="module")
def machines() -> Iterator[Path]:
    """The demo rendered into a directory everyone can read, one subdirectory per machine."""
    out = Path(tempfile.mkdtemp(prefix="fedi-eval-config-"))
    state = out / "state"
    state.mkdir()
    shutil.copyfile(DEMO, state / "fedi.toml")
    shutil.copyfile(DEMO_DEPLOY_KEY, state / DEMO_DEPLOY_KEY.name)
    for name, machine in Workspace.open(state / "fedi.toml").rendered.items():
        for rel, text in machine.files.items():
            path = out / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in [out, *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield out
    shutil.rmtree(out, ignore_errors=True)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        cwd="/",
        user=_test_user(),
        check=False,
        timeout=300,
    )


def _planted(machines: Path, machine: str, old: str, new: str) -> Path:
    copy = Path(tempfile.mkdtemp(prefix="fedi-planted-", dir=machines))
    copy.chmod(0o755)
    shutil.copytree(machines / machine, copy / machine)
    config = copy / machine / "configuration.nix"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return config


def test_a_rendered_nixos_host_evaluates(machines: Path, nixos_tree: NixosTree) -> None:
    result = _run(
        str(EVAL_CONFIG), str(nixos_tree.root), str(machines / "bare-1/configuration.nix")
    )
    assert result.returncode == 0, result.stderr
    assert "evaluated" in result.stderr and "-nixos-system-bare-1-" in result.stderr


def test_a_copy_away_from_the_repository_uses_the_harness_beside_the_tree(
    machines: Path, nixos_tree: NixosTree
) -> None:
    alone = Path(tempfile.mkdtemp(prefix="fedi-bin-", dir=machines))
    alone.chmod(0o755)
    shutil.copy(EVAL_CONFIG, alone / "nixos-eval-config")
    config = machines / "coop-mastodon" / "configuration.nix"  # a Proxmox VM: <nixpkgs/…>
    result = _run(str(alone / "nixos-eval-config"), str(nixos_tree.root), str(config))
    assert result.returncode == 0, result.stderr
    assert "evaluated" in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "services.qemuGuest.enable = true;",
            "services.qemuGuest.enabel = true;",
            "The option `services.qemuGuest.enabel' does not exist",
        ),
        (
            "mediaRetentionDays = 14;",
            'mediaRetentionDays = "fourteen";',
            "fediversity.mastodon.mediaRetentionDays' is not of type `signed integer'",
        ),
        (
            "services.qemuGuest.enable = true;",
            "boot.loader.systemd-boot.enable = true;",
            "error: failed assertion: systemd-boot requires 'ovmf' bios",
        ),
    ],
    ids=["option-name", "type", "assertion"],
)
def test_a_planted_mistake_fails_with_the_reason(
    machines: Path, nixos_tree: NixosTree, old: str, new: str, reason: str
) -> None:
    config = _planted(machines, "coop-mastodon", old, new)
    result = _run(str(EVAL_CONFIG), str(nixos_tree.root), str(config))
    assert result.returncode == 1
    assert reason in result.stderr
    assert "evaluation warning" not in result.stderr  # lib's deprecation noise is left out


def test_bad_usage(nixos_tree: NixosTree, tmp_path: Path) -> None:
    assert _run(str(EVAL_CONFIG)).returncode == 2
    result = _run(str(EVAL_CONFIG), "/", "/nonexistent/configuration.nix")
    assert result.returncode == 2 and "not a NixOS module tree" in result.stderr
    result = _run(str(EVAL_CONFIG), str(nixos_tree.root), "/nonexistent/configuration.nix")
    assert result.returncode == 1 and "No such file or directory" in result.stderr


def test_fake_nixos_rebuild_evaluates_only_with_fake_nixos_tree(
    machines: Path, nixos_tree: NixosTree
) -> None:
    config = _planted(
        machines,
        "coop-mastodon",
        "services.qemuGuest.enable = true;",
        "services.qemuGuest.enabel = true;",
    )
    rebuild = (str(FAKE_REBUILD), "switch", "-I", f"nixos-config={config}")
    parsed = _run(*rebuild)  # parsing alone cannot see a wrong option name
    assert parsed.returncode == 0, parsed.stderr
    assert "files parse" in parsed.stdout
    evaluated = _run(*rebuild, env={"FAKE_NIXOS_TREE": str(nixos_tree.root)})
    assert evaluated.returncode == 1
    assert "The option `services.qemuGuest.enabel' does not exist" in evaluated.stderr
    assert "activating" not in evaluated.stderr
