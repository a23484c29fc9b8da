"""The post-deploy settings each app module builds, and the limits it checks first."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fedi_tui.core.apps.mastodon import MASTODON, SHORT_DESCRIPTION_MAX, MastodonOptions

ADMIN = {"username": "alice", "email": "alice@example.org"}


def test_mastodon_refuses_a_description_longer_than_its_short_description_limit() -> None:
    too_long = "x" * (SHORT_DESCRIPTION_MAX + 1)
    with pytest.raises(ValidationError) as caught:
        MastodonOptions.model_validate(
            {"enable": True, "admin": ADMIN, "site_description": too_long}
        )
    message = str(caught.value)
    assert "site_description" in message
    assert f"at most {SHORT_DESCRIPTION_MAX} characters" in message
    assert f"has {SHORT_DESCRIPTION_MAX + 1}" in message


def test_mastodon_accepts_a_description_at_the_limit() -> None:
    fits = "x" * SHORT_DESCRIPTION_MAX
    options = MastodonOptions.model_validate(
        {"enable": True, "admin": ADMIN, "site_description": fits}
    )
    assert options.site_description == fits
    assert MASTODON.options is MastodonOptions


def test_mastodon_saves_title_and_description_with_no_arguments_between_its_settings() -> None:
    options = MastodonOptions.model_validate(
        {"enable": True, "admin": ADMIN, "site_title": "Coop", "site_description": "Hi"}
    )
    req = MASTODON.requirements("coop", "example.org", options)
    commands = MASTODON.admin_commands(options, req, {})
    assert [c.argv[:2] for c in commands] == [
        ("mastodon-tootctl", "settings"),
        ("fediversity-mastodon-settings",),  # the values come from the configuration
        ("mastodon-tootctl", "accounts"),
    ]
    assert commands[1].description == "site title and description"
