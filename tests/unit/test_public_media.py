"""Public media URLs: the storage's pattern, and what each app renders from it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fedi_tui.core.state.spec import GarageStorageSpec

BASE = {
    "kind": "garage",
    "s3_endpoint": "https://127.0.0.1:3900",
    "admin_endpoint": "https://127.0.0.1:3903",
    "admin_token": {"env": "T"},
}


def test_the_pattern_names_the_bucket() -> None:
    spec = GarageStorageSpec.model_validate(BASE | {"public_url": "https://{bucket}.web.x.test"})
    assert spec.media_url("coop-mastodon") == "https://coop-mastodon.web.x.test"


def test_without_a_pattern_media_points_at_the_s3_endpoint() -> None:
    assert GarageStorageSpec.model_validate(BASE).media_url("b") == "https://127.0.0.1:3900/b"


@pytest.mark.parametrize(
    "bad",
    [
        "https://web.x.test",  # no bucket
        "https://{bucket}.{bucket}.test",  # twice
        "ftp://{bucket}.x.test",
        "https://{bucket}.x.test/",  # trailing slash
        "https://{bucket}.x.test\n",
        "https://{bucket} .x.test",
        "https://{name}.{bucket}.test",
    ],
)
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="expected a URL with \\{bucket\\} once"):
        GarageStorageSpec.model_validate(BASE | {"public_url": bad})
