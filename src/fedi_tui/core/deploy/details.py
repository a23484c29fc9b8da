"""What each kind of plan step carries: one frozen dataclass per step kind.

The planner fills them in; the step handlers read them; plans show them as
`key=value` (`Step.describe`) and `plan --json` as an object (`as_dict`), in
field order. `why` says what a step is for when its mark alone could mislead.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

Value = str | int | bool | list[str] | None


@dataclass(frozen=True)
class Detail:
    """Base of every step detail (the detail of a step with nothing to say)."""

    def items(self) -> list[tuple[str, Value]]:
        out: list[tuple[str, Value]] = []
        for f in fields(self):
            value: Any = getattr(self, f.name)
            out.append((f.name, list(value) if isinstance(value, tuple) else value))
        return out

    def as_dict(self) -> dict[str, Value]:
        return dict(self.items())

    @property
    def why(self) -> str | None:
        return None


@dataclass(frozen=True)
class VmDetail(Detail):
    """create-vm: where the VM goes and how big it is."""

    runtime: str
    node: str | None
    vmid: int | None
    address: str | None
    cores: int
    memory_gib: int
    disk_gib: int


@dataclass(frozen=True)
class ResizeDetail(Detail):
    """resize-vm: the new size (a disk never shrinks) and the old one."""

    cores: int
    memory_gib: int
    disk_gib: int
    was: str


@dataclass(frozen=True)
class BucketDetail(Detail):
    """create-bucket."""

    storage: str
    quota_gib: int
    public: bool


@dataclass(frozen=True)
class QuotaDetail(Detail):
    """set-quota."""

    quota_gib: int
    was: int


@dataclass(frozen=True)
class KeyDetail(Detail):
    """create-key and revoke-key: the bucket the key is for."""

    bucket: str


@dataclass(frozen=True)
class SecretsDetail(Detail):
    """generate-secrets: the instance's secret files."""

    files: tuple[str, ...]


@dataclass(frozen=True)
class PushDetail(Detail):
    """push-config: why it runs, the configuration's hash, the machine's address."""

    why_: str
    hash: str
    address: str | None

    def items(self) -> list[tuple[str, Value]]:
        return [("why", self.why_), ("hash", self.hash), ("address", self.address)]

    @property
    def why(self) -> str | None:
        return self.why_


@dataclass(frozen=True)
class ActivateDetail(Detail):
    """activate: why it runs."""

    why_: str

    def items(self) -> list[tuple[str, Value]]:
        return [("why", self.why_)]

    @property
    def why(self) -> str | None:
        return self.why_


@dataclass(frozen=True)
class HealthDetail(Detail):
    """health-check: the URLs of the machine's apps."""

    urls: tuple[str, ...]


@dataclass(frozen=True)
class StopVmDetail(Detail):
    """stop-vm."""

    vmid: int | None
    node: str | None


@dataclass(frozen=True)
class DestroyVmDetail(Detail):
    """destroy-vm."""

    vmid: int | None


@dataclass(frozen=True)
class ClearDetail(Detail):
    """clear-config: the NixOS host's address."""

    address: str | None
