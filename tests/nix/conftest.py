"""Fixtures of the NixOS evaluation tests."""

from __future__ import annotations

import pytest

from tests.nix.nixos_eval import NixosTree
from tests.nix.rendered_states import Rendered


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, nixos_tree: NixosTree) -> Rendered:
    """Both states rendered and evaluated once (`tests.nix.rendered_states`)."""
    return Rendered(tmp_path_factory.mktemp("nixos-eval"), nixos_tree)
