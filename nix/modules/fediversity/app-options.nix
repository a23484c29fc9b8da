# Option declarations shared by every app (mastodon, peertube, pixelfed).
# Not a module: `import ./app-options.nix { inherit lib; } { app = "mastodon"; }`
# returns the attrset to put under `options.fediversity.<app>`.
{ lib }:
{
  app,
  # Env file (relative to `${secretsDir}/<app>/`) that carries the S3 credentials.
  s3CredentialsFile ? "s3.env",
}:
let
  inherit (lib) mkOption mkEnableOption types;
in
{
  enable = mkEnableOption "${app} for this customer";

  domain = mkOption {
    type = types.str;
    example = "${app}.example.org";
    description = "Public domain name of the ${app} instance (nginx virtual host with a Let's Encrypt certificate).";
  };

  registrationMode = mkOption {
    type = types.enum [
      "open"
      "approval"
      "closed"
    ];
    default = "approval";
    description = "Who may sign up: anyone (`open`), after a moderator approves (`approval`), or nobody (`closed`).";
  };

  admin = {
    username = mkOption {
      type = types.str;
      description = "User name of the first administrator account (created by the deploy tool after deploy).";
    };
    email = mkOption {
      type = types.str;
      description = "E-mail address of the first administrator; also used as the instance contact / sender address.";
    };
  };

  siteTitle = mkOption {
    type = types.str;
    description = "Name of the instance shown to visitors.";
  };

  siteDescription = mkOption {
    type = types.str;
    default = "";
    description = "Short description of the instance shown to visitors (empty: keep the app's default).";
  };

  s3.publicUrl = mkOption {
    type = types.str;
    example = "https://${app}-media.web.example.org";
    description = ''
      Base URL at which browsers fetch the bucket's public objects (media): Garage's
      website endpoint or a CDN in front of it. Garage's S3 endpoint does not serve
      anonymous reads, so this is what the ${app} pages link to.
    '';
  };

  s3.bucket = mkOption {
    type = types.str;
    description = ''
      Name of the S3 bucket (on `fediversity.s3.endpoint`) holding the ${app} media.
      The credentials are not Nix values: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
      are read from the env file `''${fediversity.secretsDir}/${app}/${s3CredentialsFile}`.
    '';
  };
}
