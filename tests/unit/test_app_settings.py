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
