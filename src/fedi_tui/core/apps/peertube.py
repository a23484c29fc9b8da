"""PeerTube: video hosting."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fedi_tui.core.apps.base import (
    AdminCommand,
    AppModule,
    AppOptions,
    BucketNeed,
    DataNeed,
    Requirements,
    SecretNeed,
    SizePreset,
    admin_account_script,
)

Resolution = Literal["144p", "240p", "360p", "480p", "720p", "1080p", "1440p", "2160p"]
DEFAULT_RESOLUTIONS: tuple[Resolution, ...] = ("480p", "720p", "1080p")


class Transcoding(BaseModel):
    """How uploaded videos are converted for playback."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True
    )

    enable: bool = True
    """Transcode uploads into the resolutions below (needs CPU)."""
    resolutions: list[Resolution] = Field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    """Resolutions to produce."""


class PeertubeOptions(AppOptions):
    """Options of a PeerTube instance."""

    transcoding: Transcoding = Field(default_factory=Transcoding)
    """Video transcoding."""
    max_upload_mb: int = Field(default=4096, ge=1, le=1_048_576)
    """Largest video file a user may upload, in MiB."""


UPDATE_HOST = "peertube-update-host"
"""PeerTube's documented `npm run update-host` (scripts/update-host.js), as the NixOS
peertube package installs it: rewrites the URLs of local videos, accounts and
channels to the configured host."""


ADMIN_SCRIPT = "fediversity-peertube-admin"
"""nix/modules/fediversity/peertube.nix: makes the configuration's admin account an
administrator through PeerTube's REST API, logged in as root (whose password PeerTube
took from PT_INITIAL_ROOT_PASSWORD in `service.env`). No arguments: passwords are read
from root-only files on the machine. What it prints holds no secret, so it goes to
the log like any command's output."""


def host_change(
    options: AppOptions, req: Requirements, old_domain: str
) -> tuple[AdminCommand, ...]:
    return (AdminCommand(f"update the host {old_domain} → {req.domain}", (UPDATE_HOST,)),)


PEERTUBE = AppModule(
    name="peertube",
    title="PeerTube",
    summary="Video hosting and live streaming, federated with ActivityPub.",
    options=PeertubeOptions,
    secrets=(
        SecretNeed("secrets", "random"),
        SecretNeed("service.env", "env", ("PT_INITIAL_ROOT_PASSWORD",)),
        SecretNeed("admin-password", "random"),
    ),
    buckets=(BucketNeed(public=True),),
    data=DataNeed(database="peertube", stop_units=("peertube.service",)),
    health_path="/api/v1/ping",
    admin=admin_account_script(ADMIN_SCRIPT),
    host_change=host_change,
    sizes={
        "tiny": SizePreset(users=10, cores=2, memory_gib=4, disk_gib=30, s3_quota_gib=200),
        "small": SizePreset(users=100, cores=4, memory_gib=8, disk_gib=40, s3_quota_gib=1_000),
        "medium": SizePreset(users=1_000, cores=8, memory_gib=16, disk_gib=80, s3_quota_gib=5_000),
        "large": SizePreset(
            users=10_000, cores=16, memory_gib=32, disk_gib=160, s3_quota_gib=20_000
        ),
    },
)
