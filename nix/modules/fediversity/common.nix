# Settings shared by all apps: secrets directory, ACME, S3 endpoint, and the
# nginx / PostgreSQL / firewall basics every app needs.
{ config, lib, ... }:
let
  cfg = config.fediversity;
  anyAppEnabled = cfg.mastodon.enable || cfg.peertube.enable || cfg.pixelfed.enable;
in
{
  options.fediversity = {
    secretsDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/fediversity/secrets";
      description = ''
        Directory (owned by root) into which the deploy tool pushes secret files.
        Every secret is read from `<secretsDir>/<app>/<file>`; each app directory
        is made private to the user that has to read it (see the app modules).
      '';
    };

    acme.email = lib.mkOption {
      type = lib.types.str;
      example = "hostmaster@example.org";
      description = "Contact address for the Let's Encrypt account (accepts the ACME terms).";
    };

    s3 = {
      endpoint = lib.mkOption {
        type = lib.types.str;
        example = "https://s3.example.org";
        description = "https URL of the operator's Garage S3 API endpoint.";
      };
      region = lib.mkOption {
        type = lib.types.str;
        default = "garage";
        description = "S3 region name configured in Garage (`s3_api.s3_region`).";
      };
    };
  };

  config = lib.mkIf anyAppEnabled {
    security.acme = {
      acceptTerms = true;
      defaults.email = cfg.acme.email;
    };

    services.nginx = {
      enable = true;
      recommendedTlsSettings = true;
      recommendedProxySettings = true;
      recommendedGzipSettings = true;
      recommendedOptimisation = true;
    };

    services.postgresql.enable = true;

    networking.firewall.allowedTCPPorts = [
      80
      443
    ];

    # Traversable but not listable; the per-app directories below it are private.
    systemd.tmpfiles.rules = [ "d ${cfg.secretsDir} 0711 root root - -" ];
  };
}
