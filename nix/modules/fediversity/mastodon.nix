# Mastodon on top of the upstream `services.mastodon` module.
#
# Secret files pushed by the deploy tool into `<secretsDir>/mastodon/`:
#   secret-key-base  -> services.mastodon.secretKeyBaseFile
#   s3.env           -> services.mastodon.extraEnvFiles (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
# The other Mastodon secrets (VAPID keys, ActiveRecord encryption keys) are
# generated on first start by the upstream module under /var/lib/mastodon.
#
# No Nix or environment setting exists for these; the deploy tool sets them
# after deploy:
#   - registration mode: `tootctl settings registrations open|approved|close`
#     (open -> open, approval -> approved, closed -> close)
#   - admin account: `tootctl accounts create <username> --email <email> --confirmed --role Owner`
#   - site title / description: Mastodon stores them in its database (admin settings);
#     tootctl has no command for them, so `fediversity-mastodon-settings` (below) saves
#     them with `rails runner` and Form::AdminSettings, in mastodon-web's environment.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  top = config.fediversity;
  cfg = top.mastodon;
  secrets = "${top.secretsDir}/mastodon";
  mastodon = config.services.mastodon;
  inherit (mastodon) user group;
  web = config.systemd.services.mastodon-web;
  # Fixed program text: the values arrive in the environment, never inside the code.
  saveSettings = ''
    attrs = { site_title: ENV.fetch("FEDI_SITE_TITLE") }
    description = ENV.fetch("FEDI_SITE_DESCRIPTION")
    attrs[:site_short_description] = description unless description.empty?
    form = Form::AdminSettings.new(attrs)
    form.save || abort(form.errors.full_messages.join("; "))
  '';
  # Idempotent: saving the same values again changes nothing. No arguments: the values
  # are the configuration's own, so no secret and no operator text is ever on argv.
  settingsScript = pkgs.writeShellApplication {
    name = "fediversity-mastodon-settings";
    # it sources the unit's environment files (read as root, like mastodon-tootctl)
    excludeShellChecks = [
      "SC1090"
      "SC1091"
    ];
    text = ''
      set -a
      ${lib.toShellVars web.environment}
      ${lib.concatMapStrings (f: "source ${lib.escapeShellArg f}\n") web.serviceConfig.EnvironmentFile}
      FEDI_SITE_TITLE=${lib.escapeShellArg cfg.siteTitle}
      FEDI_SITE_DESCRIPTION=${lib.escapeShellArg cfg.siteDescription}
      set +a
      cd ${mastodon.package}
      exec /run/wrappers/bin/sudo -u ${user} --preserve-env ${mastodon.package}/bin/rails runner ${lib.escapeShellArg saveSettings}
    '';
  };
in
{
  options.fediversity.mastodon = import ./app-options.nix { inherit lib; } { app = "mastodon"; } // {
    mediaRetentionDays = lib.mkOption {
      type = lib.types.int;
      default = 30;
      description = "Remote media and preview cards older than this many days are removed daily.";
    };
  };

  config = lib.mkIf cfg.enable {
    services.mastodon = {
      enable = true;
      localDomain = cfg.domain;
      configureNginx = true;
      # Required by the upstream module (no default); one is enough for a small instance.
      streamingProcesses = lib.mkDefault 1;
      smtp.fromAddress = cfg.admin.email;
      secretKeyBaseFile = "${secrets}/secret-key-base";
      extraEnvFiles = [ "${secrets}/s3.env" ];
      mediaAutoRemove.olderThanDays = cfg.mediaRetentionDays;
      # Environment variables (all strings). Credentials come from s3.env above.
      extraConfig = {
        S3_ENABLED = "true";
        S3_BUCKET = cfg.s3.bucket;
        S3_ENDPOINT = top.s3.endpoint;
        S3_REGION = top.s3.region;
        S3_HOSTNAME = lib.removePrefix "https://" top.s3.endpoint;
        # Browsers fetch media from the public URL (Garage's website endpoint or a
        # CDN): S3_PROTOCOL://S3_ALIAS_HOST/<path>.
        S3_PROTOCOL = if lib.hasPrefix "http://" cfg.s3.publicUrl then "http" else "https";
        S3_ALIAS_HOST = lib.removePrefix "http://" (lib.removePrefix "https://" cfg.s3.publicUrl);
      };
    };

    environment.systemPackages = [ settingsScript ];

    # configureNginx creates this virtual host; make TLS explicit.
    services.nginx.virtualHosts.${cfg.domain} = {
      forceSSL = true;
      enableACME = true;
    };

    # mastodon-init-dirs reads secret-key-base as the mastodon user.
    systemd.tmpfiles.rules = [
      "d ${secrets} 0700 ${user} ${group} - -"
      "Z ${secrets} - ${user} ${group} - -"
    ];
  };
}
