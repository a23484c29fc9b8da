"""Mastodon: microblogging."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, field_validator

from fedi_tui.core.apps.base import (
    AdminCommand,
    AppModule,
    AppOptions,
    BucketNeed,
    DataNeed,
    Requirements,
    SecretNeed,
    SizePreset,
)

SHORT_DESCRIPTION_MAX = 200
"""Mastodon's limit on `site_short_description` (Form::AdminSettings validates it)."""


class MastodonOptions(AppOptions):
    """Options of a Mastodon instance."""

    media_retention_days: int = Field(default=30, ge=1, le=3650)
    """Days to keep cached media from other servers before removing it."""

    @field_validator("site_description")
    @classmethod
    def _short_description_fits(cls, value: str) -> str:
        if len(value) > SHORT_DESCRIPTION_MAX:
            raise ValueError(
                f"site_description: Mastodon shows it as its short description, which "
                f"allows at most {SHORT_DESCRIPTION_MAX} characters (this one has {len(value)})"
            )
        return value


TOOTCTL = "mastodon-tootctl"
"""The tootctl wrapper the NixOS mastodon module puts on the system path."""
SETTINGS = "fediversity-mastodon-settings"
"""Our script (nix/modules/fediversity/mastodon.nix) that saves the site title and
description from the configuration: tootctl has no command for them."""
REGISTRATIONS = {"open": "open", "approval": "approved", "closed": "close"}


def admin_commands(
    options: AppOptions, req: Requirements, secrets: Mapping[str, str]
) -> tuple[AdminCommand, ...]:
    """Registration mode, site title and description, and the owner account: no NixOS
    option sets them."""
    commands = [
        AdminCommand(
            f"registrations {options.registration_mode}",
            (TOOTCTL, "settings", "registrations", REGISTRATIONS[options.registration_mode]),
        ),
        AdminCommand("site title and description", (SETTINGS,)),
    ]
    if options.admin is not None:
        user, email = options.admin.username, options.admin.email
        commands.append(
            AdminCommand(
                f"owner account {user}",
                (TOOTCTL, "accounts", "modify", user, "--role", "Owner", "--email", email),
                fallback=(
                    TOOTCTL,
                    "accounts",
                    "create",
                    user,
                    "--email",
                    email,
                    "--confirmed",
                    "--role",
                    "Owner",
                ),
                quiet=True,  # `create` prints the new account's password
            )
        )
    return tuple(commands)


def host_change(
    options: AppOptions, req: Requirements, old_domain: str
) -> tuple[AdminCommand, ...]:
    """Mastodon's documented steps after its web domain changed: the cached pages and
    preview cards still name the old host, and the search index holds old URLs."""
    return (
        AdminCommand(f"clear the cache of {old_domain}", (TOOTCTL, "cache", "clear")),
        AdminCommand("rebuild the search index", (TOOTCTL, "search", "deploy")),
    )


MASTODON = AppModule(
    name="mastodon",
    title="Mastodon",
    summary="Microblogging: short posts, follows and timelines across the Fediverse.",
    options=MastodonOptions,
    secrets=(SecretNeed("secret-key-base", "random"), SecretNeed("s3.env", "s3-env")),
    buckets=(BucketNeed(public=True),),
    data=DataNeed(
        database="mastodon",
        stop_units=(
            "mastodon-web.service",
            "mastodon-streaming-*.service",
            "mastodon-sidekiq-*.service",
        ),
        start_units=("mastodon.target",),
    ),
    health_path="/health",
    admin=admin_commands,
    host_change=host_change,
    sizes={
        "tiny": SizePreset(users=10, cores=2, memory_gib=4, disk_gib=20, s3_quota_gib=50),
        "small": SizePreset(users=100, cores=2, memory_gib=6, disk_gib=30, s3_quota_gib=200),
        "medium": SizePreset(users=1_000, cores=4, memory_gib=12, disk_gib=60, s3_quota_gib=1_000),
        "large": SizePreset(users=10_000, cores=8, memory_gib=24, disk_gib=120, s3_quota_gib=5_000),
    },
)
