"""Paths tests share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-configs"
DEMO = SAMPLES / "demo.toml"
DEMO_DEPLOY_KEY = SAMPLES / "demo_deploy_ed25519.pub"
"""The public half of the demo's ssh.key (the demo ships no private key)."""
