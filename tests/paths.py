"""Paths tests share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-configs"
DEMO = SAMPLES / "demo.toml"
