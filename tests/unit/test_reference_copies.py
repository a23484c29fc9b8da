"""tests/reference/ holds copies of the shared reference data; they must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import ROOT

SHARED = ROOT.parent / "shared" / "reference"
COPIES = sorted((ROOT / "tests" / "reference").iterdir())


def test_there_are_copies() -> None:
    assert [p.name for p in COPIES] == ["garage-admin-api.json", "nixos-options.json"]


@pytest.mark.parametrize("copy", COPIES, ids=lambda p: p.name)
def test_copy_matches_the_shared_original(copy: Path) -> None:
    original = SHARED / copy.name
    if not original.exists():
        pytest.skip(f"no {original} beside this clone to compare with")
    assert copy.read_bytes() == original.read_bytes()
