"""What every application module provides: operator options, sizes, requirements.

A module is an `AppModule` instance registered in the `fedi_tui.apps` entry-point
group, so another package can add an application without editing fedi-tui.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from fedi_tui.core.state.validators import DomainName, EmailAddress, Username

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


@dataclass(frozen=True)
class SecretNeed:
    """A secret file the app reads on its machine: `<secretsDir>/<app>/<name>`."""

    name: str
    kind: Literal["random", "s3-env", "env"]
    """random: 64 random hex characters; s3-env: the bucket key as AWS_* variables;
    env: an environment file with `variables` set to random values plus the S3 key."""
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class BucketNeed:
    """An S3 bucket: named `<operator>-<app>` plus the suffix."""

    suffix: str = ""
    public: bool = False
    """Served to the world (media), not only through the app."""


@dataclass(frozen=True)
class DataNeed:
    """Where an app keeps its data on its machine, for backup, restore and migration.

    The names are those the upstream NixOS module uses by default (which the `fediversity`
    modules keep): its PostgreSQL database, and the systemd units that write to the
    database or the bucket, stopped while data is restored or frozen for a migration.
    Unit names may be systemctl patterns (`mastodon-sidekiq-*.service`). A held
    machine (`fediversity.<app>.holdServices`, nix/modules/fediversity/hold.nix) keeps
    these units wanted by nothing; tests/nix/test_nixos_eval.py checks that every one of
    them is among the units hold.nix holds.
    """

    database: str | None = None
    """The app's PostgreSQL database (None: it has none)."""
    stop_units: tuple[str, ...] = ()
    """Units stopped, in this order, before its data is restored or copied."""
    start_units: tuple[str, ...] = ()
    """Units started again afterwards (default: `stop_units`)."""

    @property
    def units_to_start(self) -> tuple[str, ...]:
        return self.start_units or self.stop_units


@dataclass(frozen=True)
class Requirements:
    """What one application instance needs from the provider."""

    app: str
    operator: str
    domain: str
    cores: int
    memory_gib: int
    disk_gib: int
    s3_quota_gib: int
    postgresql: bool
    redis: bool
    buckets: tuple[str, ...]
    public_buckets: tuple[str, ...]
    secrets: tuple[SecretNeed, ...]
    health_url: str
    data: DataNeed = DataNeed()
    """Its database and the units that write data (backup, restore, migration)."""


def camel(name: str) -> str:
    """`media_retention_days` → `mediaRetentionDays` (Nix option naming)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def nix_values(options: BaseModel) -> dict[str, object]:
    """The options as `fediversity.<app>` values: camelCase, unset and fedi-tui-only left out."""
    out: dict[str, object] = {}
    for name, field in type(options).model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("nix") is False:
            continue
        value = getattr(options, name)
        if value is None:
            continue
        out[camel(name)] = nix_values(value) if isinstance(value, BaseModel) else value
    return out


@dataclass(frozen=True)
class AdminCommand:
    """A post-deploy setting with no NixOS option, run on the machine after health checks.

    Idempotent: `argv` changes what exists; when it fails, `fallback` (if any) creates it.
    Values are separate arguments, never interpolated into a shell or program text.
    """

    description: str
    argv: tuple[str, ...]
    fallback: tuple[str, ...] = ()
    quiet: bool = False
    """Keep the output out of the logs (it may print a generated password)."""


AdminCommands = Callable[
    ["AppOptions", "Requirements", Mapping[str, str]], tuple[AdminCommand, ...]
]
"""(options, requirements, the instance's secret files by name) → its post-deploy settings."""


HostChange = Callable[["AppOptions", "Requirements", str], tuple[AdminCommand, ...]]
"""(options, requirements on the new domain, the old domain) → the app's documented
host-change procedure, run on its machine after a migration that changes the domain."""


def admin_account_script(program: str) -> AdminCommands:
    """The admin account made by a script of the app's own NixOS module (`program`, on the
    machine's path): no arguments, as the script reads the values from the configuration
    and the password from the root-only secret file."""

    def commands(
        options: AppOptions, req: Requirements, secrets: Mapping[str, str]
    ) -> tuple[AdminCommand, ...]:
        if options.admin is None:
            return ()
        return (AdminCommand(f"admin account {options.admin.username}", (program,)),)

    return commands


def _no_admin_commands(
    options: AppOptions, req: Requirements, secrets: Mapping[str, str]
) -> tuple[AdminCommand, ...]:
    return ()


def _no_host_change(
    options: AppOptions, req: Requirements, old_domain: str
) -> tuple[AdminCommand, ...]:
    return ()


@dataclass(frozen=True, eq=False)
class AppModule:
    """An application fedi-tui can run: its options, presets and needs."""

    name: str
    """Key in fedi.toml (`operators.<id>.apps.<name>`) and in the Nix module."""
    title: str
    """Human name."""
    summary: str
    """One line on what it is."""
    options: type[AppOptions]
    sizes: dict[Size, SizePreset]
    secrets: tuple[SecretNeed, ...]
    buckets: tuple[BucketNeed, ...] = (BucketNeed(),)
    postgresql: bool = True
    redis: bool = True
    health_path: str = "/"
    data: DataNeed = DataNeed()
    """Where its data lives on the machine (database, units to stop for a restore)."""
    admin: AdminCommands = _no_admin_commands
    """The post-deploy settings (see `AdminCommand`) for an instance's options."""
    host_change: HostChange = _no_host_change
    """Its documented procedure for a new domain (see `HostChange`)."""

    def admin_commands(
        self, options: AppOptions, req: Requirements, secrets: Mapping[str, str]
    ) -> tuple[AdminCommand, ...]:
        return self.admin(options, req, secrets)

    def domain(self, options: AppOptions, operator_domain: str) -> str:
        return options.domain or f"{self.name}.{operator_domain}"

    def requirements(
        self, operator: str, operator_domain: str, options: AppOptions
    ) -> Requirements:
        preset = self.sizes[options.size]
        domain = self.domain(options, operator_domain)
        names = tuple(f"{operator}-{self.name}{b.suffix}" for b in self.buckets)
        public = tuple(n for n, b in zip(names, self.buckets, strict=True) if b.public)
        return Requirements(
            app=self.name,
            operator=operator,
            domain=domain,
            cores=preset.cores,
            memory_gib=preset.memory_gib,
            disk_gib=preset.disk_gib,
            s3_quota_gib=preset.s3_quota_gib,
            postgresql=self.postgresql,
            redis=self.redis,
            buckets=names,
            public_buckets=public,
            secrets=self.secrets,
            health_url=f"https://{domain}{self.health_path}",
            data=self.data,
        )
