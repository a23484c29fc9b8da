"""Fixtures for adapter tests: real OpenSSH test hosts, moto S3 servers and the Garage
admin stand-in (fakepve comes from its pytest plugin)."""

from __future__ import annotations

from tests.fixtures.garage import garage, garage_b, garage_factory
from tests.fixtures.s3 import moto_factory
from tests.fixtures.sshd import (
    sshd_factory,
    sshd_fast_host,
    sshd_host,
    sshd_module_factory,
)

__all__ = [
    "garage",
    "garage_b",
    "garage_factory",
    "moto_factory",
    "sshd_factory",
    "sshd_fast_host",
    "sshd_host",
    "sshd_module_factory",
]
