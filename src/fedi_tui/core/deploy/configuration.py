"""A Configuration: what should exist — machines with their apps, buckets, keys, secrets.

Produced by the resource mapping (`core.mapping`) from the desired state and the
recorded facts; consumed by the renderer (`core.render`) and the planner (`core.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fedi_tui.core.apps.base import AppModule, AppOptions, Requirements


@dataclass(frozen=True)
class AppInstance:
    """One application of one operator, with what it needs."""

    operator: str
    module: AppModule
    options: AppOptions
    requirements: Requirements

    @property
    def key(self) -> str:
        """`<operator>-<app>`: names its bucket, its S3 key and its secrets."""
        return f"{self.operator}-{self.module.name}"


@dataclass(frozen=True)
class Machine:
    """A machine and the app instances placed on it."""

    name: str
    runtime: str
    kind: Literal["proxmox", "nixos"]
    storage: str
    apps: tuple[AppInstance, ...]
    cores: int
    memory_gib: int
    disk_gib: int
    node: str | None = None
    vmid: int | None = None
    address: str | None = None
    reason: str = ""
    """Why it was placed where it is (`fedi-tui plan --explain`)."""

    @property
    def operators(self) -> tuple[str, ...]:
        return tuple(sorted({a.operator for a in self.apps}))

    def placement(self) -> dict[str, str | int | None]:
        """Where it runs and how big it is, for plans and reports."""
        return {
            "runtime": self.runtime,
            "node": self.node,
            "vmid": self.vmid,
            "address": self.address,
            "cores": self.cores,
            "memory_gib": self.memory_gib,
            "disk_gib": self.disk_gib,
        }


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket and the key an app instance uses for it."""

    name: str
    storage: str
    key_name: str
    public: bool
    quota_gib: int
    instance: str
    operator: str


@dataclass(frozen=True)
class Configuration:
    machines: tuple[Machine, ...]
    buckets: tuple[Bucket, ...]

    def machine(self, name: str) -> Machine:
        return next(m for m in self.machines if m.name == name)

    def only_operator(self, operator: str) -> Configuration:
        """The part of the configuration that serves one operator."""
        return Configuration(
            tuple(m for m in self.machines if operator in m.operators),
            tuple(b for b in self.buckets if b.operator == operator),
        )
