# Pixelfed on top of the upstream `services.pixelfed` module.
#
# Secret file pushed by the deploy tool into `<secretsDir>/pixelfed/`:
#   app.env  -> services.pixelfed.secretFile, a .env file with APP_KEY and the
#               S3 credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
#               (pixelfed has no separate s3.env). It is read by systemd
#               (LoadCredential), so the directory stays root-only.
#
# The admin account is created by the deploy tool after deploy
# (`pixelfed-manage user:create`).
{ config, lib, ... }:
let
  top = config.fediversity;
  cfg = top.pixelfed;
  secrets = "${top.secretsDir}/pixelfed";
in
{
  options.fediversity.pixelfed =
    import ./app-options.nix { inherit lib; } {
      app = "pixelfed";
      s3CredentialsFile = "app.env";
    }
    // {
      maxPhotoKb = lib.mkOption {
        type = lib.types.int;
        default = 15000;
        description = "Maximum size of one uploaded photo, in KiB.";
      };
      maxAlbumLength = lib.mkOption {
        type = lib.types.int;
        default = 4;
        description = "Maximum number of photos in one post.";
      };
    };

  config = lib.mkIf cfg.enable {
    services.pixelfed = {
      enable = true;
      domain = cfg.domain;
      secretFile = "${secrets}/app.env";
      # nginx and PHP limits: one photo per request, plus room for the form data.
      maxUploadSize = "${toString (cfg.maxPhotoKb + 1024)}K";
      database = {
        type = "pgsql";
        createLocally = true;
      };
      nginx = {
        forceSSL = true;
        enableACME = true;
      };
      # .env keys (pixelfed / Laravel).
      settings = {
        APP_NAME = cfg.siteTitle;
        INSTANCE_CONTACT_EMAIL = cfg.admin.email;
        MAIL_FROM_ADDRESS = cfg.admin.email;
        OPEN_REGISTRATION = cfg.registrationMode == "open";
        # Curated registration: sign-up requests wait for a moderator.
        INSTANCE_CUR_REG = cfg.registrationMode == "approval";
        MAX_PHOTO_SIZE = cfg.maxPhotoKb;
        MAX_ALBUM_LENGTH = cfg.maxAlbumLength;
        PF_ENABLE_CLOUD = true;
        FILESYSTEM_CLOUD = "s3";
        AWS_DEFAULT_REGION = top.s3.region;
        AWS_BUCKET = cfg.s3.bucket;
        AWS_ENDPOINT = top.s3.endpoint;
        AWS_URL = cfg.s3.publicUrl; # where browsers fetch the photos
        AWS_USE_PATH_STYLE_ENDPOINT = true;
      }
      // lib.optionalAttrs (cfg.siteDescription != "") { INSTANCE_DESCRIPTION = cfg.siteDescription; };
    };

    # The upstream module creates the role and database for pgsql but does not
    # make the role the database owner.
    services.postgresql.ensureUsers = [
      {
        name = config.services.pixelfed.user;
        ensureDBOwnership = true;
      }
    ];

    systemd.tmpfiles.rules = [ "d ${secrets} 0700 root root - -" ];
  };
}
