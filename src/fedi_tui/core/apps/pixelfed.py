"""Pixelfed: photo sharing."""

from __future__ import annotations

from pydantic import Field

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


class PixelfedOptions(AppOptions):
    """Options of a Pixelfed instance."""

    max_photo_kb: int = Field(default=15000, ge=100, le=1_000_000)
    """Largest photo a user may upload, in KiB."""
    max_album_length: int = Field(default=4, ge=1, le=20)
    """Most photos in one post."""


MANAGE = "pixelfed-manage"
"""The artisan wrapper the NixOS pixelfed module puts on the system path."""

ADMIN_SCRIPT = "fediversity-pixelfed-admin"
"""nix/modules/fediversity/pixelfed.nix: `user:create` from `pixelfed-manage tinker`, with
the configuration's admin and the password read from the root-only `admin-password`
file, so that it is never on a command line of the machine. What it prints holds no
secret, so it goes to the log like any command's output."""


def host_change(
    options: AppOptions, req: Requirements, old_domain: str
) -> tuple[AdminCommand, ...]:
    """Pixelfed's documented steps after APP_URL/APP_DOMAIN changed: rebuild the cached
    configuration and routes, which hold the old host."""
    return (
        AdminCommand("rebuild the configuration cache", (MANAGE, "config:cache")),
        AdminCommand("rebuild the route cache", (MANAGE, "route:cache")),
    )


PIXELFED = AppModule(
    name="pixelfed",
    title="Pixelfed",
    summary="Photo sharing: albums, stories and collections across the Fediverse.",
    options=PixelfedOptions,
    secrets=(SecretNeed("app.env", "env", ("APP_KEY",)), SecretNeed("admin-password", "random")),
    buckets=(BucketNeed(public=True),),
    data=DataNeed(
        database="pixelfed",
        stop_units=("pixelfed-cron.timer", "pixelfed-horizon.service", "phpfpm-pixelfed.service"),
        start_units=("phpfpm-pixelfed.service", "pixelfed-horizon.service", "pixelfed-cron.timer"),
    ),
    redis=True,
    health_path="/api/nodeinfo/2.0.json",
    admin=admin_account_script(ADMIN_SCRIPT),
    host_change=host_change,
    sizes={
        "tiny": SizePreset(users=10, cores=1, memory_gib=2, disk_gib=20, s3_quota_gib=50),
        "small": SizePreset(users=100, cores=2, memory_gib=4, disk_gib=30, s3_quota_gib=200),
        "medium": SizePreset(users=1_000, cores=4, memory_gib=8, disk_gib=60, s3_quota_gib=1_000),
        "large": SizePreset(users=10_000, cores=8, memory_gib=16, disk_gib=120, s3_quota_gib=5_000),
    },
)
