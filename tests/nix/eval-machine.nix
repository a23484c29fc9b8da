# Evaluate rendered configuration.nix files under the real NixOS module system.
#
#   nix-instantiate --store dummy:// --eval --strict --json eval-machine.nix \
#     --argstr tree /unpacked/nixos-tree --argstr names /tmp/names.json \
#     --argstr configs '{"m1": "/abs/m1/configuration.nix", …}' -I nixpkgs=/unpacked/nixos-tree
#
# For each configuration: nixos/lib/eval-config.nix with every NixOS module,
# the real lib, and the stand-in package set (standin-pkgs.nix). Returns, by
# name: the failed assertions, the warnings, key option values, and the
# outPath of config.system.build.toplevel (forcing it evaluates everything the
# system is built from). Several configurations in one call share the cost of
# reading the modules.
#
# A path imported by a configuration that only exists on the real machine
# (the NixOS host's /etc/nixos/hardware-configuration.nix) is replaced by the
# file `hostFiles` maps it to: the test stands in for that machine's disk.
{
  tree,
  names,
  configs,
  hostFiles ? "{}",
  system ? "x86_64-linux",
}:
let
  lib = import (/. + tree + "/lib");
  pkgs = import ./standin-pkgs.nix {
    inherit lib system;
    tree = /. + tree;
    names = builtins.fromJSON (builtins.readFile names);
  };
  onHost = builtins.mapAttrs (_: p: /. + p) (builtins.fromJSON hostFiles);
  standIn = m: onHost.${toString m} or m;

  # The configuration as the module system would load it, with host-only paths
  # in its imports replaced; its own file name is kept for error messages.
  load =
    path:
    let
      module = import path;
      wrap =
        result:
        result
        // {
          _file = toString path;
          imports = map standIn (result.imports or [ ]);
        };
    in
    if builtins.isFunction module then
      lib.setFunctionArgs (args: wrap (module args)) (lib.functionArgs module)
    else
      wrap module;

  evaluate =
    path:
    let
      nixos = import (/. + tree + "/nixos/lib/eval-config.nix") {
        inherit lib pkgs system;
        modules = [
          (load (/. + path))
          { documentation.nixos.enable = false; }
        ];
      };
      inherit (nixos) config;
      users = lib.filterAttrs (_: u: u.openssh.authorizedKeys.keys != [ ]) config.users.users;
      # the fediversity apps this machine enables, by name (the other attributes are shared)
      enabledApps = lib.filterAttrs (_: a: a.enable or false) (
        removeAttrs config.fediversity [
          "acme"
          "s3"
          "secretsDir"
        ]
      );
    in
    rec {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
      inherit (config) warnings;
      # building refuses a system with failed assertions: then there is no toplevel
      toplevel = if failedAssertions == [ ] then config.system.build.toplevel.outPath else null;
      values = {
        hostName = config.networking.hostName;
        stateVersion = config.system.stateVersion;
        openssh = {
          inherit (config.services.openssh) enable ports openFirewall;
          permitRootLogin = config.services.openssh.settings.PermitRootLogin;
        };
        firewall = {
          inherit (config.networking.firewall) enable allowedTCPPorts;
        };
        authorizedKeys = builtins.mapAttrs (_: u: u.openssh.authorizedKeys.keys) users;
        deployUsers = builtins.mapAttrs (_: u: {
          inherit (u) isNormalUser extraGroups;
        }) users;
        sudoRules = map (r: { inherit (r) users commands; }) config.security.sudo.extraRules;
        qemuGuest = config.services.qemuGuest.enable;
        cloudInit = config.services.cloud-init.enable;
        rootFileSystem = config.fileSystems."/".device or null;
        grubDevices = config.boot.loader.grub.devices;
        acme = {
          inherit (config.security.acme) acceptTerms;
          email = config.security.acme.defaults.email;
          certs = builtins.attrNames config.security.acme.certs;
        };
        nginx = builtins.mapAttrs (_: v: {
          inherit (v) forceSSL enableACME;
        }) config.services.nginx.virtualHosts;
        mastodon = lib.optionalAttrs config.services.mastodon.enable {
          inherit (config.services.mastodon) localDomain extraConfig;
          settingsScript = builtins.any (
            p: (p.name or "") == "fediversity-mastodon-settings"
          ) config.environment.systemPackages;
        };
        # the fediversity modules' own scripts on the system path, by name: their text
        scripts = builtins.listToAttrs (
          map (p: lib.nameValuePair p.name p.text) (
            builtins.filter (
              p: lib.hasPrefix "fediversity-" (p.name or "") && p ? text
            ) config.environment.systemPackages
          )
        );
        peertube = lib.optionalAttrs config.services.peertube.enable {
          inherit (config.services.peertube) localDomain;
          instanceName = config.services.peertube.settings.instance.name;
          objectStorage = config.services.peertube.settings.object_storage;
        };
        pixelfed = lib.optionalAttrs config.services.pixelfed.enable {
          inherit (config.services.pixelfed) domain;
          inherit (config.services.pixelfed.settings)
            APP_NAME
            AWS_BUCKET
            AWS_ENDPOINT
            AWS_DEFAULT_REGION
            AWS_URL
            ;
        };
        # what backup, restore and migration reach: each app's database, the unit names
        data = {
          databases =
            lib.optionalAttrs config.services.mastodon.enable {
              mastodon = config.services.mastodon.database.name;
            }
            // lib.optionalAttrs config.services.peertube.enable {
              peertube = config.services.peertube.database.name;
            }
            // lib.optionalAttrs config.services.pixelfed.enable {
              pixelfed = config.services.pixelfed.database.name;
            };
          units =
            map (n: "${n}.service") (builtins.attrNames config.systemd.services)
            ++ map (n: "${n}.target") (builtins.attrNames config.systemd.targets)
            ++ map (n: "${n}.timer") (builtins.attrNames config.systemd.timers);
          # unit -> what wants it (boot, switch): empty for the units of a held app
          wantedBy =
            lib.mapAttrs' (n: u: lib.nameValuePair "${n}.service" u.wantedBy) config.systemd.services
            // lib.mapAttrs' (n: u: lib.nameValuePair "${n}.target" u.wantedBy) config.systemd.targets
            // lib.mapAttrs' (n: u: lib.nameValuePair "${n}.timer" u.wantedBy) config.systemd.timers;
          held = lib.mapAttrs (_: a: a.holdServices) enabledApps;
        };
        fediversity = {
          secretsDir = config.fediversity.secretsDir;
          siteTitles = lib.mapAttrs (_: a: a.siteTitle) enabledApps;
        };
      };
    };
in
builtins.mapAttrs (_: evaluate) (builtins.fromJSON configs)
