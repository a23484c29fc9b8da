# PeerTube on top of the upstream `services.peertube` module.
#
# Secret files pushed by the deploy tool into `<secretsDir>/peertube/`:
#   secrets  -> services.peertube.secrets.secretsFile (`openssl rand -hex 32`)
#   s3.env   -> services.peertube.serviceEnvironmentFile (AWS_ACCESS_KEY_ID,
#               AWS_SECRET_ACCESS_KEY; PeerTube falls back to these when
#               object_storage.credentials is not set)
#
# The admin account is created by the deploy tool after deploy (PeerTube itself
# only creates `root` on first start).
{ config, lib, ... }:
let
  top = config.fediversity;
  cfg = top.peertube;
  secrets = "${top.secretsDir}/peertube";
  inherit (config.services.peertube) user group;
  allResolutions = [
    "144p"
    "240p"
    "360p"
    "480p"
    "720p"
    "1080p"
    "1440p"
    "2160p"
  ];
in
{
  options.fediversity.peertube = import ./app-options.nix { inherit lib; } { app = "peertube"; } // {
    transcoding = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = "Transcode uploaded videos (needed for most uploads to play everywhere).";
      };
      resolutions = lib.mkOption {
        type = lib.types.listOf (lib.types.enum allResolutions);
        default = [
          "480p"
          "720p"
          "1080p"
        ];
        description = "Resolutions to transcode to (only those below the source resolution are produced).";
      };
    };

    maxUploadMb = lib.mkOption {
      type = lib.types.int;
      default = 4096;
      description = ''
        Intended maximum size of one video upload, in MiB. Not enforced by this
        module: PeerTube has no per-file size setting, and the upstream NixOS
        module fixes the nginx body limits itself (resumable chunked uploads are
        unlimited). Per-user quotas are set by the deploy tool after deploy.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    services.peertube = {
      enable = true;
      localDomain = cfg.domain;
      enableWebHttps = true;
      listenWeb = 443;
      configureNginx = true;
      database.createLocally = true; # upstream peertube-init-db creates role and database
      redis.createLocally = true;
      secrets.secretsFile = "${secrets}/secrets";
      serviceEnvironmentFile = "${secrets}/s3.env";

      # Freeform production.json keys (PeerTube config/default.yaml).
      settings = {
        instance = {
          name = cfg.siteTitle;
        }
        // lib.optionalAttrs (cfg.siteDescription != "") { short_description = cfg.siteDescription; };
        admin.email = cfg.admin.email;
        signup = {
          enabled = cfg.registrationMode != "closed";
          requires_approval = cfg.registrationMode == "approval";
          limit = -1; # PeerTube's default closes sign-ups after 10 users
        };
        transcoding = {
          enabled = cfg.transcoding.enable;
          resolutions = lib.genAttrs allResolutions (r: lib.elem r cfg.transcoding.resolutions);
        };
        # One bucket, one prefix per kind of file. Garage has no object ACLs.
        object_storage = {
          enabled = true;
          endpoint = top.s3.endpoint;
          region = top.s3.region;
          upload_acl = {
            public = null;
            private = null;
          };
          proxy.proxify_private_files = false;
          # the public ones are fetched by browsers through the public URL
          streaming_playlists = {
            bucket_name = cfg.s3.bucket;
            prefix = "streaming-playlists/";
            base_url = cfg.s3.publicUrl;
          };
          web_videos = {
            bucket_name = cfg.s3.bucket;
            prefix = "web-videos/";
            base_url = cfg.s3.publicUrl;
          };
          user_exports = {
            bucket_name = cfg.s3.bucket;
            prefix = "user-exports/";
          };
          original_video_files = {
            bucket_name = cfg.s3.bucket;
            prefix = "original-video-files/";
          };
        };
      };
    };

    # configureNginx creates this virtual host without TLS settings.
    services.nginx.virtualHosts.${cfg.domain} = {
      forceSSL = true;
      enableACME = true;
    };

    # The peertube start script reads the secrets file as the peertube user.
    systemd.tmpfiles.rules = [
      "d ${secrets} 0700 ${user} ${group} - -"
      "Z ${secrets} - ${user} ${group} - -"
    ];
  };
}
