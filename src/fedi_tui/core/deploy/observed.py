"""Observed facts: what the servers report now (Observed… models).

Node figures mean the resources available to fedi-tui's VMs in total — the
node's capacity minus what other, unmanaged guests use — so they replace the
declared capacity in fedi.toml one for one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fedi_tui.core.errors import FediError


class ObservedNode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cores: int = Field(ge=0)
    memory_gib: float = Field(ge=0)
    disk_gib: float = Field(ge=0)
    online: bool = True


class ObservedRuntime(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: dict[str, ObservedNode] = Field(default_factory=dict)
    used_vmids: frozenset[int] = frozenset()
    """VMIDs taken by guests fedi-tui did not create."""


class ObservedFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    runtimes: dict[str, ObservedRuntime] = Field(default_factory=dict)


def load_facts(path: Path) -> ObservedFacts:
    try:
        return ObservedFacts.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FediError(f"{path}: cannot read facts: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        key = ".".join(str(p) for p in first["loc"])
        raise FediError(f"{path}: {key}: {first['msg']}") from None
