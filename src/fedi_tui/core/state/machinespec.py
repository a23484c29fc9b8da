"""How fedi-tui reaches and keeps the machines of a runtime: login, system, deployment.

`SshSpec` (who logs in, with which key), `SystemSpec` (what keeps a machine's
NixOS system bootable: release, nixpkgs, base modules) and `DeploySpec` (where
files go on the machine and which commands deploy it) are shared by both kinds
of runtime in `core.state.spec`.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from fedi_tui.core.state.specbase import Spec
from fedi_tui.core.state.validators import described

LoginName = Annotated[
    str,
    Field(
        pattern=described(
            r"^[a-z_][a-z0-9_-]{0,31}$",
            "a Unix login name: lower-case letters, digits, '_' and '-', up to 32 characters",
        )
    ),
]
"""A Unix login name: lower-case letters, digits, '_' and '-', up to 32 characters."""


class SshSpec(Spec):
    """How fedi-tui logs in to machines."""

    user: LoginName = "root"
    """Login user on the machines."""
    key: str
    """Path of the private key file (not the key itself); `~` expands, a relative path is
    relative to the state file. Its public half, `<key>.pub`, is the deploy key the
    rendered configurations authorize."""
    authorized_keys: list[str] = Field(default_factory=list)
    """Public keys allowed to log in to the machines ('ssh-ed25519 AAAA… comment')."""

    @field_validator("authorized_keys")
    @classmethod
    def _public_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not re.fullmatch(
                r"(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( [^\r\n]*)?", key
            ):
                raise ValueError("expected public keys like 'ssh-ed25519 AAAA… comment'")
        return value


NIXOS_RELEASE = "25.05"
"""The NixOS release rendered configurations are written for, unless a runtime says otherwise."""

_MODULE_PATH = re.compile(
    r"(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)+|<[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*>"
)
"""A NixOS module on the machine: an absolute path or a `<nixpkgs/…>` lookup path, in the
characters a Nix path literal allows."""


class SystemSpec(Spec):
    """The NixOS system of the runtime's machines: release, nixpkgs and what makes them boot."""

    state_version: str = NIXOS_RELEASE
    """NixOS release the machines were installed with (`system.stateVersion`, e.g. '25.05');
    keep it when upgrading, it guards data formats of services."""
    nixpkgs: str | None = Field(default=None, min_length=1)
    """nixpkgs the activation builds with (given to nixos-rebuild as `-I nixpkgs=…`: a path or
    a tarball URL on the machine); default: the machine's own `nixos` channel."""
    base_modules: list[str] | None = None
    """Modules every configuration imports so the machine boots: absolute paths on the
    machine or `<nixpkgs/…>` paths. Default for a NixOS host:
    ['/etc/nixos/hardware-configuration.nix']; for a Proxmox VM:
    ['<nixpkgs/nixos/modules/virtualisation/proxmox-image.nix>'], the profile the
    template is built with."""

    @field_validator("state_version")
    @classmethod
    def _release(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2}\.\d{2}", value):
            raise ValueError("expected a NixOS release like '25.05'")
        return value

    @field_validator("base_modules")
    @classmethod
    def _modules(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError(
                "expected at least one module that makes the machine boot "
                "(its file systems and boot loader); leave base_modules out for the default"
            )
        for module in value or []:
            if not _MODULE_PATH.fullmatch(module) or "/../" in f"{module}/":
                raise ValueError(
                    f"{module!r}: expected an absolute path on the machine like "
                    "'/etc/nixos/hardware-configuration.nix' or a nixpkgs path like "
                    "'<nixpkgs/nixos/modules/virtualisation/proxmox-image.nix>'"
                )
        return value


RemotePath = Annotated[
    str,
    Field(
        pattern=described(
            r"^/[^\x00\n]*[^/\x00\n]$", "an absolute path on the machine, without a trailing '/'"
        )
    ),
]
"""An absolute path on the machines, without a trailing slash."""
Command = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
"""A command as an argument vector (never a shell string): ["nixos-rebuild", "switch"]."""


class DeploySpec(Spec):
    """How fedi-tui deploys to a runtime's machines: where files go, which commands run.

    Commands are argument vectors run over SSH. `{config}` becomes the pushed
    configuration.nix and `{dir}` its directory; in `health`, `{domain}`,
    `{path}` and `{url}` are the app's. The defaults suit NixOS machines.
    """

    config_dir: RemotePath = "/etc/nixos/fedi-tui"
    """Directory on the machine holding the rendered configuration; fedi-tui owns it."""
    secrets_dir: RemotePath = "/var/lib/fediversity/secrets"
    """Directory on the machine for the apps' secret files (root-only files, mode 0400)."""
    run_dir: RemotePath = "/run/fedi-tui"
    """Directory on the machine for the lock-out guard's files."""
    system_profile: RemotePath = "/nix/var/nix/profiles/system"
    """The system profile link: a rollback is run only when activation moved it."""
    preflight: Command = Field(
        default_factory=lambda: ["nixos-rebuild", "dry-build", "-I", "nixos-config={config}"]
    )
    """Builds the new configuration without switching; runs on every machine first."""
    activate: Command = Field(
        default_factory=lambda: ["nixos-rebuild", "switch", "-I", "nixos-config={config}"]
    )
    """Switches the machine to the pushed configuration."""
    rollback: Command = Field(default_factory=lambda: ["nixos-rebuild", "switch", "--rollback"])
    """Switches back to the previous system generation."""
    health: Command = Field(
        default_factory=lambda: [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "10",
            "--insecure",
            "--resolve",
            "{domain}:443:127.0.0.1",
            "{url}",
        ]
    )
    """Checks one app on the machine itself, through its own nginx on 127.0.0.1 (the
    certificate is not checked: before DNS points at the machine it is a placeholder)."""
    guard: Literal["systemd", "background", "off"] = "systemd"
    """Lock-out guard: a revert armed on the machine before switching, disarmed only over a
    new SSH connection — run as a transient systemd unit, as a detached background process
    (machines without systemd), or off."""
    confirm_seconds: int = Field(default=60, ge=5, le=3600)
    """After switching, how long the machine waits for fedi-tui to log in again before it
    reverts by itself."""
    activate_timeout: int = Field(default=1800, ge=10, le=86_400)
    """Seconds the preflight build and the switch may take each."""
    health_timeout: int = Field(default=300, ge=1, le=86_400)
    """Seconds an app has to pass its health check after a switch (retried until then)."""
    command_timeout: int = Field(default=300, ge=1, le=86_400)
    """Seconds any other command on the machine may take."""
    connect_timeout: int = Field(default=10, ge=1, le=300)
    """Seconds an SSH login may take."""
    database_command: Command = Field(default_factory=lambda: ["sudo", "-n", "-u", "postgres"])
    """Put before `pg_dump`, `pg_restore` and `psql` on the machine (backup, restore,
    migration): who runs them and how they reach the PostgreSQL server. The default runs
    them as PostgreSQL's superuser over its local socket, as NixOS sets it up; e.g.
    ["env", "PGHOST=127.0.0.5", "PGPORT=5433"] for a server elsewhere."""
    secrets_refresh: Command = Field(default_factory=lambda: ["systemd-tmpfiles", "--create"])
    """Run after a restore put the secret files back, so they get the owners and modes the
    NixOS modules give them (apply gets that from the switch)."""
    services_command: Command = Field(default_factory=lambda: ["systemctl"])
    """Stops and starts the apps' units (`stop`/`start` and the unit names are added) while
    their data is restored or migrated."""

    @field_validator("config_dir", "secrets_dir", "run_dir", "system_profile")
    @classmethod
    def _normalised(cls, value: str) -> str:
        if posixpath.normpath(value) != value:
            raise ValueError(
                f"expected a normalised absolute path, e.g. {posixpath.normpath(value)!r}"
            )
        return value
