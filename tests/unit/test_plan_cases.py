"""Data-driven plan cases: tests/unit/plan_cases/<case>/ → expected steps (see regenerate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.plan_cases.regenerate import HERE, run

CASES = sorted(p for p in HERE.iterdir() if (p / "expected.json").exists())
REQUIRED = {
    "fresh-provider",
    "add-operator",
    "disable-app",
    "change-size",
    "node-full",
    "pool-exhausted",
    "nothing-changed",
    "resume-half-applied",
}


def test_the_required_cases_exist() -> None:
    assert {c.name for c in CASES} >= REQUIRED


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_plan_case(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    assert run(case) == expected
