"""Fixtures for adapter tests: real OpenSSH test hosts (fakepve comes from its pytest plugin)."""

from __future__ import annotations

from tests.fixtures.sshd import (
    sshd_factory,
    sshd_fast_host,
    sshd_host,
    sshd_module_factory,
)

__all__ = ["sshd_factory", "sshd_fast_host", "sshd_host", "sshd_module_factory"]
