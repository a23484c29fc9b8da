"""The fediversity module declares exactly the agreed options (names, types, defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.nix.fediversity_options import NixEvalError, fediversity_options

APPS = ("mastodon", "peertube", "pixelfed")
STR: dict[str, Any] = {"type": "str"}
RESOLUTIONS = ["144p", "240p", "360p", "480p", "720p", "1080p", "1440p", "2160p"]

PER_APP: dict[str, dict[str, Any]] = {
    "enable": {"type": "bool", "default": False},
    "domain": STR,
    "registrationMode": {"type": {"enum": ["open", "approval", "closed"]}, "default": "approval"},
    "admin.username": STR,
    "admin.email": STR,
    "siteTitle": STR,
    "siteDescription": {"type": "str", "default": ""},
    "s3.bucket": STR,
    "s3.publicUrl": STR,
    "holdServices": {"type": "bool", "default": False},
}

EXPECTED: dict[str, dict[str, Any]] = {
    "fediversity.secretsDir": {"type": "str", "default": "/var/lib/fediversity/secrets"},
    "fediversity.acme.email": STR,
    "fediversity.s3.endpoint": STR,
    "fediversity.s3.region": {"type": "str", "default": "garage"},
    **{f"fediversity.{app}.{name}": decl for app in APPS for name, decl in PER_APP.items()},
    "fediversity.mastodon.mediaRetentionDays": {"type": "int", "default": 30},
    "fediversity.peertube.transcoding.enable": {"type": "bool", "default": True},
    "fediversity.peertube.transcoding.resolutions": {
        "type": {"listOf": {"enum": RESOLUTIONS}},
        "default": ["480p", "720p", "1080p"],
    },
    "fediversity.peertube.maxUploadMb": {"type": "int", "default": 4096},
    "fediversity.pixelfed.maxPhotoKb": {"type": "int", "default": 15000},
    "fediversity.pixelfed.maxAlbumLength": {"type": "int", "default": 4},
}


def test_options_are_exactly_the_agreed_ones() -> None:
    options = fediversity_options()
    assert sorted(options) == sorted(EXPECTED)
    for path, expected in EXPECTED.items():
        assert options[path] == expected, path


def test_every_option_is_documented() -> None:
    options = fediversity_options(with_descriptions=True)
    undocumented = [path for path, decl in options.items() if not decl.get("description")]
    assert undocumented == []


def test_defaults_have_the_declared_type() -> None:
    python_types = {"str": str, "int": int, "bool": bool}
    for path, decl in fediversity_options().items():
        if "default" not in decl:
            continue
        kind, default = decl["type"], decl["default"]
        if isinstance(kind, str):
            assert type(default) is python_types[kind], path
        elif "enum" in kind:
            assert default in kind["enum"], path
        else:
            assert all(item in kind["listOf"]["enum"] for item in default), path


def test_evaluation_errors_are_reported(tmp_path: Path) -> None:
    """A broken module makes the helper raise with nix's message, not return junk."""
    (tmp_path / "default.nix").write_text(
        """{ lib, ... }: {
          imports = [ { options.fediversity.x = lib.mkOption { type = lib.types.str; }; } ];
          options.fediversity.x = lib.mkOption { type = lib.types.int; };
        }"""
    )
    with pytest.raises(NixEvalError, match="declared twice"):
        fediversity_options(tmp_path)
