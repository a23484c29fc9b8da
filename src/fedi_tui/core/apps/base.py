"""What every application module provides: operator options, sizes, requirements.

A module is an `AppModule` instance registered in the `fedi_tui.apps` entry-point
group, so another package can add an application without editing fedi-tui.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from fedi_tui.core.validators import DomainName, EmailAddress, Username

Size = Literal["tiny", "small", "medium", "large"]
RegistrationMode = Literal["open", "approval", "closed"]

NOT_IN_NIX: dict[str, JsonValue] = {"nix": False}
"""Mark a field that steers fedi-tui (sizing, placement) and has no NixOS option."""


@dataclass(frozen=True)
class SizePreset:
    """Resources for an expected number of users."""

    users: int
    cores: int
    memory_gib: int
    disk_gib: int
    s3_quota_gib: int


class AdminAccount(BaseModel):
    """The first administrator account of an application instance."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True
    )

    username: Username
    """Login name: lower-case letters, digits and '_', up to 30 characters."""
    email: EmailAddress
    """E-mail address of the administrator."""


class AppOptions(BaseModel):
    """Options every application offers its operator. Modules subclass this."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True
    )

    enable: bool = False
    """Run this application for the operator."""
    domain: DomainName | None = None
    """Domain the application is served on; default '<app>.<operator domain>'."""
    registration_mode: RegistrationMode = "approval"
    """Who may sign up: anyone ('open'), after approval, or nobody ('closed')."""
    admin: AdminAccount | None = None
    """The first administrator account; required when the application is enabled."""
    site_title: str | None = Field(default=None, min_length=1, max_length=100)
    """Name shown on the site; default: the operator's name."""
    site_description: str = Field(default="", max_length=1000)
    """One or two sentences shown on the site's about page."""
    size: Size = Field(default="small", json_schema_extra=NOT_IN_NIX)
    """Expected users: tiny (≤10), small (≤100), medium (≤1,000), large (≤10,000)."""

    @model_validator(mode="after")
    def _admin_when_enabled(self) -> AppOptions:
        if self.enable and self.admin is None:
            raise ValueError(
                "an enabled application needs an admin account: "
                'admin = { username = "…", email = "…" }'
            )
        return self


@dataclass(frozen=True, eq=False)
class AppModule:
    """An application fedi-tui can run: its options model and resource presets."""

    name: str
    """Key in fedi.toml (`operators.<id>.apps.<name>`) and in the Nix module."""
    title: str
    """Human name."""
    summary: str
    """One line on what it is."""
    options: type[AppOptions]
    sizes: dict[Size, SizePreset]
