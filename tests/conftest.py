"""Shared test fixtures: paths to samples and a private copy of the demo state."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nix.nixos_eval import NixosTree, missing_reason, unpack_tree
from tests.paths import DEMO, DEMO_DEPLOY_KEY


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of sample-configs/demo.toml, with the deploy key it names beside it."""
    target = tmp_path / "fedi.toml"
    shutil.copyfile(DEMO, target)
    shutil.copyfile(DEMO_DEPLOY_KEY, tmp_path / DEMO_DEPLOY_KEY.name)
    return target


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep crash logs, remembered settings and caches out of the real home directory."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("FEDI_STATE", raising=False)


@pytest.fixture(autouse=True)
def _writable_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only app in one test leaves the core's one-way read-only switch on; undo it."""
    from fedi_tui.core import readonly

    monkeypatch.setattr(readonly, "_read_only", False)


@pytest.fixture(scope="session")
def nixos_tree() -> Iterator[NixosTree]:
    """The NixOS module tree, unpacked once per session (skips, saying why, when absent)."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    tree = unpack_tree()
    yield tree
    tree.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first: those marked `slow` (long end-to-end runs) go last, in their order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
