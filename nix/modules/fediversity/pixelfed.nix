# Pixelfed on top of the upstream `services.pixelfed` module.
#
# Secret file pushed by the deploy tool into `<secretsDir>/pixelfed/`:
#   app.env  -> services.pixelfed.secretFile, a .env file with APP_KEY and the
#               S3 credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
#               (pixelfed has no separate s3.env). It is read by systemd
#               (LoadCredential), so the directory stays root-only.
#
#   admin-password -> the password of the operator's admin account
#
# The admin account is created by the deploy tool after deploy, with
# `fediversity-pixelfed-admin` (below): Pixelfed's `user:create`, called from
# `pixelfed-manage tinker` with the password read from the root-only file, so that it
# is never on a command line (`user:create --password=…` would show it to every user
# of the machine in the process list).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  top = config.fediversity;
  cfg = top.pixelfed;
  secrets = "${top.secretsDir}/pixelfed";
  # Idempotent, no arguments: the values are the configuration's; the PHP program reaches
  # tinker on its standard input, each value in it base64-encoded (never program text).
  adminScript = pkgs.writeShellApplication {
    name = "fediversity-pixelfed-admin";
    runtimeInputs = [ pkgs.coreutils ];
    text = ''
      username=${lib.escapeShellArg cfg.admin.username}
      email=${lib.escapeShellArg cfg.admin.email}
      password_file=${lib.escapeShellArg "${secrets}/admin-password"}
      say() { echo "fediversity-pixelfed-admin: $*" >&2; }
      [ -r "$password_file" ] || { say "cannot read $password_file (the deploy tool pushes it)"; exit 1; }
      b64() { printf '%s' "$1" | base64 -w0; }
      password=$(tr -d '\n' < "$password_file")
      [ -n "$password" ] || { say "$password_file is empty"; exit 1; }
      php="
      \$username = base64_decode('$(b64 "$username")');
      \$email = base64_decode('$(b64 "$email")');
      \$password = base64_decode('$(b64 "$password")');
      \$user = App\User::where('username', \$username)->first();
      if (\$user === null) {
          Artisan::call('user:create', ['--name' => \$username, '--username' => \$username,
              '--email' => \$email, '--password' => \$password, '--is_admin' => 1, '--confirm_email' => 1]);
          echo App\User::where('username', \$username)->exists() ? 'fediversity: created' : 'fediversity: not created';
      } elseif (! \$user->is_admin) {
          \$user->is_admin = true;
          \$user->save();
          echo 'fediversity: made admin';
      } else {
          echo 'fediversity: exists';
      }
      "
      if ! out=$(printf '%s\n' "$php" | pixelfed-manage tinker 2>&1); then
        out="pixelfed-manage tinker failed: $out"
      fi
      case $out in
        *"fediversity: created"*) echo "created admin account $username" ;;
        *"fediversity: made admin"*) echo "made $username an administrator" ;;
        *"fediversity: exists"*) echo "admin account $username exists" ;;
        *)
          # what tinker said, without any line holding the password (or its encoding)
          said=$(printf '%s\n' "$out" | grep -vF -f <(printf '%s\n%s\n' "$password" "$(b64 "$password")") | tail -n 5)
          say "user:create did not create $username: $said"
          exit 1
          ;;
      esac
    '';
  };
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

    environment.systemPackages = [ adminScript ];

    systemd.tmpfiles.rules = [ "d ${secrets} 0700 root root - -" ];
  };
}
