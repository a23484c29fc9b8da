"""The parts of the Garage admin API v2's answers fedi-tui reads, checked on arrival.

Names follow the spec's schemas (``GetBucketInfoResponse``, ``GetKeyInfoResponse``,
…); fields fedi-tui does not use are ignored, fields it uses must be there with
the right JSON type, or :func:`read` raises a :class:`GarageError` that says
which field of which answer was wrong.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from fedi_tui.adapters.garage.http import GarageError

__all__ = [
    "BucketInfo",
    "ClusterHealth",
    "KeyInfo",
    "KeyListItem",
    "Perms",
    "read",
    "read_list",
]


class Answer(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, strict=True, alias_generator=to_camel, populate_by_name=True
    )
    schema_name: ClassVar[str] = ""
    """The spec's name for it, for messages."""


class Perms(Answer):
    """``ApiBucketKeyPerm``: what a key may do on a bucket (absent flags are false)."""

    read: bool = False
    write: bool = False
    owner: bool = False

    def flags(self) -> dict[str, bool]:
        return {"read": self.read, "write": self.write, "owner": self.owner}


class BucketKey(Answer):
    """``GetBucketInfoKey``."""

    access_key_id: str
    name: str
    permissions: Perms


class Quotas(Answer):
    """``ApiBucketQuotas``."""

    max_size: int | None = None
    max_objects: int | None = None


class BucketInfo(Answer):
    """``GetBucketInfoResponse`` (also the answer of CreateBucket, UpdateBucket, Allow/Deny)."""

    schema_name = "GetBucketInfoResponse"

    id: str = Field(min_length=1)
    global_aliases: list[str]
    website_access: bool
    keys: list[BucketKey]
    objects: int
    bytes: int
    unfinished_uploads: int = 0
    quotas: Quotas

    def perms_of(self, access_key_id: str) -> Perms:
        """The key's permissions on this bucket (none if it is not listed)."""
        return next((k.permissions for k in self.keys if k.access_key_id == access_key_id), Perms())


class KeyInfo(Answer):
    """``GetKeyInfoResponse`` (also the answer of CreateKey)."""

    schema_name = "GetKeyInfoResponse"

    access_key_id: str = Field(min_length=1)
    name: str
    expired: bool
    secret_access_key: SecretStr | None = None


class KeyListItem(Answer):
    """``ListKeysResponseItem``."""

    schema_name = "ListKeysResponseItem"

    id: str
    name: str
    expired: bool


class ClusterHealth(Answer):
    """``GetClusterHealthResponse``."""

    schema_name = "GetClusterHealthResponse"

    status: str
    known_nodes: int
    connected_nodes: int
    storage_nodes: int
    storage_nodes_ok: int
    partitions: int
    partitions_quorum: int
    partitions_all_ok: int


M = TypeVar("M", bound=Answer)


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "the answer"
    return f"{where}: {first['msg']}"


def read(model: type[M], data: Any, *, op: str, prefix: str) -> M:
    """*data* (decoded JSON) as *model*; GarageError naming the wrong field otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise GarageError(
            f"{prefix}: {op} answered with an unexpected shape ({_problem(exc)}); expected "
            f"{model.schema_name} as in Garage's admin API v2 — is this Garage 2.0 or newer?",
            reason="answer",
        ) from None


def read_list(model: type[M], data: Any, *, op: str, prefix: str) -> list[M]:
    """*data* as a list of *model*."""
    try:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise GarageError(
            f"{prefix}: {op} answered with an unexpected shape ({_problem(exc)}); expected a "
            f"list of {model.schema_name} as in Garage's admin API v2 — is this Garage 2.0 "
            "or newer?",
            reason="answer",
        ) from None
