"""The modules only set NixOS options that exist (per shared/reference/nixos-options.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nix.fediversity_options import MODULE_DIR
from tests.nix.nix_option_paths import check_paths, load_reference, option_paths_set, reference_path

MODULE_FILES = sorted(MODULE_DIR.glob("*.nix"))


@pytest.fixture(scope="module", autouse=True)
def _reference() -> None:
    assert reference_path().is_file(), (
        f"reference data missing: {reference_path()} (set FEDI_TUI_NIXOS_OPTIONS)"
    )


@pytest.mark.parametrize("module", MODULE_FILES, ids=lambda p: p.name)
def test_module_sets_only_known_options(module: Path) -> None:
    assert check_paths(option_paths_set(module)) == []


def test_the_modules_set_what_they_should() -> None:
    """Guards against an extractor that silently finds nothing."""
    paths = set().union(*map(option_paths_set, MODULE_FILES))
    for expected in [
        "security.acme.acceptTerms",
        "networking.firewall.allowedTCPPorts",
        "services.mastodon.secretKeyBaseFile",
        "services.mastodon.extraConfig.S3_BUCKET",
        "services.nginx.virtualHosts.<name>.forceSSL",
        "services.nginx.virtualHosts.<name>.enableACME",
        "services.peertube.secrets.secretsFile",
        "services.peertube.settings.object_storage.web_videos.bucket_name",
        "services.pixelfed.nginx.enableACME",
        "services.pixelfed.settings.MAX_PHOTO_SIZE",
        "services.postgresql.ensureUsers.*.ensureDBOwnership",
    ]:
        assert expected in paths


BAD_MODULE = """
{ config, lib, ... }:
{
  config = lib.mkIf true {
    services.nginx.virtualHosts.x.enableSSL = true;
    services.postgresql.port = 5432;
    services.mastodon.nonsenseOption = 1;
  };
}
"""


def test_bad_module_is_caught_with_each_path_named() -> None:
    problems = check_paths(option_paths_set(BAD_MODULE))
    assert len(problems) == 3
    for path in [
        "services.nginx.virtualHosts.x.enableSSL",
        "services.postgresql.port",
        "services.mastodon.nonsenseOption",
    ]:
        assert any(p.startswith(f"{path}: ") for p in problems), (path, problems)


@pytest.mark.parametrize(
    ("definition", "path", "reason"),
    [
        (
            'services.postgresql.ensureUsers = [ { ensurePermissions."DATABASE a" = "ALL"; } ];',
            'services.postgresql.ensureUsers.*.ensurePermissions."DATABASE a"',
            "removed",
        ),
        (
            "services.nginx.recommendedZstdSettings = true;",
            "services.nginx.recommendedZstdSettings",
            "removed",
        ),
        ("services.nginx.sslDhparam = ./dh.pem;", "services.nginx.sslDhparam", "removed"),
        ('security.acme.email = "a@b";', "security.acme.email", "renamed"),
        ("services.redis.enable = true;", "services.redis.enable", "renamed"),
        ('services.nginx.commonServerConfig = "";', "services.nginx.commonServerConfig", "older"),
        (
            "networking.firewall.allowedUDPPorts = [ 53 ];",
            "networking.firewall.allowedUDPPorts",
            "ALLOWED_EXTRA",
        ),
        (
            "services.pixelfed.nginx.bogus = true;",
            "services.pixelfed.nginx.bogus",
            "no such option",
        ),
        (
            'services.mastodon.extraConfig.AWS_SECRET_ACCESS_KEY = "x";',
            "services.mastodon.extraConfig.AWS_SECRET_ACCESS_KEY",
            "secret",
        ),
        (
            'services.pixelfed.settings.APP_KEY = "x";',
            "services.pixelfed.settings.APP_KEY",
            "secret",
        ),
        (
            'services.mastodon.extraConfig.S3_ENDPIONT = "x";',
            "services.mastodon.extraConfig.S3_ENDPIONT",
            "not a documented key",
        ),
        (
            'services.peertube.settings.object_storage.bucket = "x";',
            "services.peertube.settings.object_storage.bucket",
            "not a documented key",
        ),
    ],
)
def test_each_kind_of_bad_path_is_caught(definition: str, path: str, reason: str) -> None:
    problems = check_paths(option_paths_set(f"{{ config = {{ {definition} }}; }}"))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: ")
    assert reason in problems[0]


@pytest.mark.parametrize(
    "path",
    [
        "networking.firewall.allowedTCPPorts",
        "systemd.tmpfiles.rules",
        "users.users.<name>.openssh.authorizedKeys.keys",
        "services.pixelfed.nginx.forceSSL",  # vhost submodule
        'services.nginx.virtualHosts."a.example".locations."/".proxyPass',
        "services.peertube.settings.object_storage.user_exports.prefix",
        "services.peertube.settings.anything.goes",  # freeform
        "services.pixelfed.settings.APP_NAME",
        "services.garage.extraEnvironment.RUST_LOG",  # attrsOf str
        "services.redis.servers.<name>.enable",
    ],
)
def test_good_paths_pass(path: str) -> None:
    assert check_paths([path]) == []


def test_extraction_follows_wrappers_lets_and_interpolation() -> None:
    text = """
    { config, lib, ... }:
    let
      cfg = config.x;
      tls = { forceSSL = true; enableACME = lib.mkDefault true; };
    in
    {
      imports = [ ./other.nix ];
      options.x.domain = lib.mkOption { type = lib.types.str; };
      config = lib.mkIf cfg.enable (lib.mkMerge [
        { services.nginx.virtualHosts.${cfg.domain} = tls; }
        (lib.mkIf cfg.db {
          services.postgresql.ensureUsers = [ { name = "a"; ensureDBOwnership = true; } ];
          services.postgresql.ensureDatabases = [ "a" ];
        })
        {
          services.nginx.virtualHosts."${cfg.domain}".locations."/" = { proxyPass = "x"; }
            // lib.optionalAttrs cfg.ws { proxyWebsockets = true; };
          services.nginx.virtualHosts."a.example".root = if cfg.x then "/a" else "/b";
          security.acme = { inherit (cfg) acceptTerms; };
          environment.systemPackages = [ ];
        }
      ]);
    }
    """
    assert option_paths_set(text) == {
        "services.nginx.virtualHosts.<name>.forceSSL",
        "services.nginx.virtualHosts.<name>.enableACME",
        "services.postgresql.ensureUsers.*.name",
        "services.postgresql.ensureUsers.*.ensureDBOwnership",
        "services.postgresql.ensureDatabases",
        'services.nginx.virtualHosts.<name>.locations."/".proxyPass',
        'services.nginx.virtualHosts.<name>.locations."/".proxyWebsockets',
        'services.nginx.virtualHosts."a.example".root',
        "security.acme.acceptTerms",
        "environment.systemPackages",
    }


def test_shorthand_module_without_config_attribute() -> None:
    text = (
        '{ pkgs, ... }: { imports = [ ]; services.nginx.enable = true; networking.hostName = "h"; }'
    )
    assert option_paths_set(text) == {"services.nginx.enable", "networking.hostName"}


def test_reference_lists_what_the_checker_relies_on() -> None:
    reference = load_reference()
    assert ("services", "peertube", "settings") in reference.freeform
    assert any(why.startswith("renamed") for _, why in reference.forbidden)
    assert ("services", "mastodon") in reference.covered
