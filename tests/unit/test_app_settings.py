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


@pytest.mark.parametrize("app", ["mastodon", "peertube", "pixelfed"])
def test_no_admin_command_carries_a_secret_on_its_command_line(app: str) -> None:
    from fedi_tui.core.apps.registry import installed_apps

    module = installed_apps()[app]
    options = module.options.model_validate({"enable": True, "admin": ADMIN})
    req = module.requirements("coop", "example.org", options)
    files = {need.name: f"{need.name}-value-0123456789abcdef" for need in req.secrets}
    commands = module.admin_commands(options, req, files)
    assert commands, "every app makes its admin account"
    for command in commands:
        for arg in (*command.argv, *command.fallback):
            assert not any(value in arg for value in files.values()), (command.description, arg)
    if app != "mastodon":  # the module's own script: the values come from the configuration
        assert [c.argv for c in commands] == [(f"fediversity-{app}-admin",)]
