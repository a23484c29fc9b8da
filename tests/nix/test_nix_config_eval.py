"""Evaluate what the module sets (stub lib, fake config) and check its meaning.

Catches what parsing cannot: misspelt `cfg.` attributes, type errors in string
building, conflicting definitions between the app modules.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.nix.fediversity_options import MODULE_DIR, fediversity_config
from tests.nix.nix_option_paths import (
    DYNAMIC,
    ELEMENT,
    check_paths,
    join_path,
    option_paths_set,
    split_path,
)

DOMAINS = {
    "mastodon": "social.example.org",
    "peertube": "tube.example.org",
    "pixelfed": "pix.example.org",
}
SECRETS = "/var/lib/fediversity/secrets"


def sample(mode: str = "approval", **enabled: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "acme": {"email": "hostmaster@example.org"},
        "s3": {"endpoint": "https://s3.example.org"},
    }
    for app, domain in DOMAINS.items():
        values[app] = {
            "enable": enabled.get(app, True),
            "domain": domain,
            "registrationMode": mode,
            "admin": {"username": "admin", "email": f"admin@{domain}"},
            "siteTitle": f"{app} title",
            "siteDescription": f"{app} description",
            "s3": {"bucket": f"{app}-media", "publicUrl": f"https://{app}-media.web.example.org"},
        }
    return values


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """Every app enabled and held (so hold.nix's definitions are evaluated too)."""
    values = sample()
    for app in DOMAINS:
        values[app]["holdServices"] = True
    return fediversity_config(values)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Option paths of an evaluated config: lists of attrsets become `*`."""
    if isinstance(value, dict) and value:
        return set().union(*(_leaves(v, (*path, k)) for k, v in value.items()))
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return set().union(*(_leaves(v, (*path, ELEMENT)) for v in value))
    return {path}


def _covers(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """`pattern` (from the tree-sitter extractor) is `path` or a prefix of it."""
    return len(pattern) <= len(path) and all(
        p == s or (p == DYNAMIC and s != ELEMENT) for p, s in zip(pattern, path, strict=False)
    )


def _defined(value: Any) -> Any:
    """What a definition sets: an empty attribute set sets no option (hold.nix defines
    `systemd.services = { }` and the like when it holds nothing), so it is left out."""
    if not isinstance(value, dict):
        return value
    kept = {k: _defined(v) for k, v in value.items()}
    return {k: v for k, v in kept.items() if v != {}}


def test_nothing_is_set_when_no_app_is_enabled() -> None:
    off = sample(mastodon=False, peertube=False, pixelfed=False)
    assert _defined(fediversity_config(off)) == {}


def test_evaluated_paths_exist(config: dict[str, Any]) -> None:
    assert check_paths(join_path(p) for p in _leaves(config)) == []


def test_extractor_agrees_with_evaluation(config: dict[str, Any]) -> None:
    extracted = {split_path(p) for f in MODULE_DIR.glob("*.nix") for p in option_paths_set(f)}
    evaluated = _leaves(config)
    assert [join_path(p) for p in evaluated if not any(_covers(e, p) for e in extracted)] == []
    assert [join_path(e) for e in extracted if not any(_covers(e, p) for p in evaluated)] == []


def test_every_virtual_host_forces_tls_with_acme(config: dict[str, Any]) -> None:
    vhosts = config["services"]["nginx"]["virtualHosts"]
    assert set(vhosts) == {DOMAINS["mastodon"], DOMAINS["peertube"]}  # pixelfed: below
    for vhost in [*vhosts.values(), config["services"]["pixelfed"]["nginx"]]:
        assert vhost["forceSSL"] is True
        assert vhost["enableACME"] is True


def test_common_settings(config: dict[str, Any]) -> None:
    assert config["security"]["acme"] == {
        "acceptTerms": True,
        "defaults": {"email": "hostmaster@example.org"},
    }
    nginx = config["services"]["nginx"]
    assert nginx["enable"] is True
    assert all(nginx[f"recommended{s}"] for s in ("TlsSettings", "ProxySettings", "GzipSettings"))
    assert config["services"]["postgresql"]["enable"] is True
    assert config["networking"]["firewall"]["allowedTCPPorts"] == [80, 443]


def test_secrets_are_paths_under_secrets_dir(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["mastodon"]["secretKeyBaseFile"] == f"{SECRETS}/mastodon/secret-key-base"
    assert services["mastodon"]["extraEnvFiles"] == [f"{SECRETS}/mastodon/s3.env"]
    assert services["peertube"]["secrets"]["secretsFile"] == f"{SECRETS}/peertube/secrets"
    assert services["peertube"]["serviceEnvironmentFile"] == f"{SECRETS}/peertube/service.env"
    assert services["pixelfed"]["secretFile"] == f"{SECRETS}/pixelfed/app.env"
    rules = config["systemd"]["tmpfiles"]["rules"]
    assert f"d {SECRETS} 0711 root root - -" in rules
    assert f"d {SECRETS}/pixelfed 0700 root root - -" in rules


def test_secrets_dir_is_configurable() -> None:
    values = sample() | {"secretsDir": "/srv/secrets"}
    services = fediversity_config(values)["services"]
    assert services["pixelfed"]["secretFile"] == "/srv/secrets/pixelfed/app.env"


def test_postgres_ownership_not_permissions(config: dict[str, Any]) -> None:
    users = config["services"]["postgresql"]["ensureUsers"]
    assert users == [{"name": "pixelfed", "ensureDBOwnership": True}]


def test_s3_settings(config: dict[str, Any]) -> None:
    mastodon = config["services"]["mastodon"]["extraConfig"]
    assert mastodon["S3_BUCKET"] == "mastodon-media"
    assert mastodon["S3_ENDPOINT"] == "https://s3.example.org"
    assert mastodon["S3_HOSTNAME"] == "s3.example.org"
    assert (mastodon["S3_PROTOCOL"], mastodon["S3_ALIAS_HOST"]) == (
        "https",
        "mastodon-media.web.example.org",
    )
    assert all(isinstance(v, str) for v in mastodon.values())  # environment variables
    storage = config["services"]["peertube"]["settings"]["object_storage"]
    assert storage["region"] == "garage"
    assert {storage[k]["bucket_name"] for k in ("web_videos", "streaming_playlists")} == {
        "peertube-media"
    }
    public = {storage[k].get("base_url") for k in ("web_videos", "streaming_playlists")}
    assert public == {"https://peertube-media.web.example.org"}
    assert "base_url" not in storage["user_exports"]  # private: through the app only
    pixelfed = config["services"]["pixelfed"]["settings"]
    assert pixelfed["AWS_BUCKET"] == "pixelfed-media"
    assert pixelfed["AWS_URL"] == "https://pixelfed-media.web.example.org"


def test_peertube_transcoding_resolutions(config: dict[str, Any]) -> None:
    transcoding = config["services"]["peertube"]["settings"]["transcoding"]
    assert transcoding["enabled"] is True
    assert {r for r, on in transcoding["resolutions"].items() if on} == {"480p", "720p", "1080p"}
    assert len(transcoding["resolutions"]) == 8


@pytest.mark.parametrize(
    ("mode", "peertube_signup", "pixelfed_open", "pixelfed_curated"),
    [
        ("open", (True, False), True, False),
        ("approval", (True, True), False, True),
        ("closed", (False, False), False, False),
    ],
)
def test_registration_mode(
    mode: str, peertube_signup: tuple[bool, bool], pixelfed_open: bool, pixelfed_curated: bool
) -> None:
    services = fediversity_config(sample(mode))["services"]
    signup = services["peertube"]["settings"]["signup"]
    assert (signup["enabled"], signup["requires_approval"]) == peertube_signup
    settings = services["pixelfed"]["settings"]
    assert settings["OPEN_REGISTRATION"] is pixelfed_open
    assert settings["INSTANCE_CUR_REG"] is pixelfed_curated


def test_empty_description_keeps_app_default() -> None:
    values = sample()
    for app in DOMAINS:
        values[app]["siteDescription"] = ""
    services = fediversity_config(values)["services"]
    assert "short_description" not in services["peertube"]["settings"]["instance"]
    assert "INSTANCE_DESCRIPTION" not in services["pixelfed"]["settings"]


def test_single_app_enables_common_parts() -> None:
    config = fediversity_config(sample(mastodon=False, peertube=False))
    assert set(config["services"]) == {"nginx", "pixelfed", "postgresql"}
    assert config["security"]["acme"]["acceptTerms"] is True
