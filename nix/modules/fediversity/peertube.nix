# PeerTube on top of the upstream `services.peertube` module.
#
# Secret files pushed by the deploy tool into `<secretsDir>/peertube/`:
#   secrets         -> services.peertube.secrets.secretsFile (`openssl rand -hex 32`)
#   service.env     -> services.peertube.serviceEnvironmentFile: PT_INITIAL_ROOT_PASSWORD
#                      (the password PeerTube gives `root` when it creates it on first
#                      start) and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (PeerTube
#                      falls back to these when object_storage.credentials is not set)
#   admin-password  -> the password of the operator's admin account
#
# Registration mode, site title and description are PeerTube settings (below). The
# operator's admin account has none: `fediversity-peertube-admin` (below), run by the
# deploy tool after deploy, makes it through PeerTube's REST API, logged in as root.
# PeerTube gives root the instance's admin e-mail, and e-mails are unique, so the script
# first moves root's e-mail to root@<domain>: root stays a break-glass administrator
# whose password only the deploy tool's secret store holds.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  top = config.fediversity;
  cfg = top.peertube;
  secrets = "${top.secretsDir}/peertube";
  peertube = config.services.peertube;
  inherit (peertube) user group;
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
  # Idempotent, no arguments: the values are the configuration's, the passwords are read
  # from root-only files, and no secret is ever on a command line (curl and jq read
  # them from files, some in a private temporary directory).
  adminScript = pkgs.writeShellApplication {
    name = "fediversity-peertube-admin";
    runtimeInputs = [
      pkgs.coreutils
      pkgs.curl
      pkgs.jq
    ];
    text = ''
      api=${lib.escapeShellArg "http://127.0.0.1:${toString peertube.listenHttp}/api/v1"}
      host=${lib.escapeShellArg cfg.domain}
      username=${lib.escapeShellArg cfg.admin.username}
      email=${lib.escapeShellArg cfg.admin.email}
      env_file=${lib.escapeShellArg "${secrets}/service.env"}
      password_file=${lib.escapeShellArg "${secrets}/admin-password"}
      say() { echo "fediversity-peertube-admin: $*" >&2; }
      for f in "$env_file" "$password_file"; do
        [ -r "$f" ] || { say "cannot read $f (the deploy tool pushes it)"; exit 1; }
      done
      work=$(umask 077 && mktemp -d)
      trap 'rm -rf "$work"' EXIT
      : > "$work/auth" # the Authorization header, once logged in

      # call METHOD PATH [BODY-FILE [TYPE]]: PeerTube's answer on stdout, or say why not
      call() {
        local method=$1 path=$2 body=''${3:-} type=''${4:-application/json} status
        local args=(--silent --show-error --max-time 30 --output "$work/answer"
          --write-out '%{http_code}' -H "Host: $host" -H "@$work/auth" -X "$method")
        [ -z "$body" ] || args+=(-H "Content-Type: $type" --data-binary "@$body")
        if ! status=$(curl "''${args[@]}" "$api$path"); then
          say "PeerTube does not answer at $api ($method $path)"
          return 1
        fi
        case $status in
          2??) cat "$work/answer" ;;
          *)
            say "$method $path: HTTP $status $(jq -r '.detail // .error // empty' "$work/answer" 2>/dev/null | head -c 300)"
            return 1
            ;;
        esac
      }

      # Log in as root with the password PeerTube took from PT_INITIAL_ROOT_PASSWORD.
      call GET /oauth-clients/local > "$work/client"
      jq -Rsrj --slurpfile c "$work/client" '
        [split("\n")[] | select(startswith("PT_INITIAL_ROOT_PASSWORD="))
          | ltrimstr("PT_INITIAL_ROOT_PASSWORD=")] as $found
        | if $found == [] then error("no PT_INITIAL_ROOT_PASSWORD") else $found[0] end
        | "client_id=\($c[0].client_id | @uri)&client_secret=\($c[0].client_secret | @uri)"
          + "&grant_type=password&response_type=code&username=root&password=\(@uri)"
      ' < "$env_file" > "$work/login" || { say "$env_file has no PT_INITIAL_ROOT_PASSWORD"; exit 1; }
      if ! call POST /users/token "$work/login" application/x-www-form-urlencoded > "$work/token"; then
        say "cannot log in as root with the generated password (was root made before it was set?)"
        exit 1
      fi
      jq -rj '"Authorization: Bearer \(.access_token)"' < "$work/token" > "$work/auth"

      call GET "/users?search=$username&count=100" > "$work/users"
      found=$(jq -r --arg u "$username" '.data[] | select(.username == $u) | "\(.id) \(.role.id)"' < "$work/users")
      if [ -n "$found" ]; then
        read -r id role <<< "$found"
        if [ "$role" != 0 ]; then
          echo '{"role": 0}' > "$work/role.json"
          call PUT "/users/$id" "$work/role.json" > /dev/null
          echo "made $username an administrator"
        else
          echo "admin account $username exists"
        fi
        exit 0
      fi
      # e-mails are unique and PeerTube gave root the admin's: move root's out of the way
      call GET "/users?search=root&count=100" > "$work/users"
      root=$(jq -r --arg e "$email" '.data[] | select(.username == "root" and .email == $e) | .id' < "$work/users")
      if [ -n "$root" ]; then
        jq -n --arg e "root@$host" '{email: $e}' > "$work/root.json"
        call PUT "/users/$root" "$work/root.json" > /dev/null
      fi
      jq -n --arg u "$username" --arg e "$email" --rawfile p "$password_file" '{
        username: $u, email: $e, password: ($p | rtrimstr("\n")),
        role: 0, videoQuota: -1, videoQuotaDaily: -1
      }' > "$work/user.json"
      call POST /users "$work/user.json" > /dev/null
      echo "created admin account $username"
    '';
  };
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
      serviceEnvironmentFile = "${secrets}/service.env";

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

    environment.systemPackages = [ adminScript ];

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
