# Holding an app's services: `fediversity.<app>.holdServices = true` keeps the
# app's systemd units installed but wanted by nothing, so neither boot nor
# `nixos-rebuild switch` starts them. fedi-tui deploys a migration target held
# (its database and bucket are still empty) and redeploys it unheld once the
# data is in, then starts the units. sshd, networking, PostgreSQL, Redis and
# nginx are never held: the machine stays a whole, reachable system.
#
# The unit names are those of the upstream modules (they must stay in step with
# `DataNeed.stop_units` / `start_units` in src/fedi_tui/core/apps/; the NixOS
# evaluation tests check both against the evaluated units).
{ config, lib, ... }:
let
  top = config.fediversity;
  mastodon = config.services.mastodon;

  option = app: {
    holdServices = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Keep ${app}'s systemd services, targets and timers from being started
        at boot or on switch (wanted by nothing); they can still be started by
        hand. Set by fedi-tui while a migration copies the data in.
      '';
    };
  };

  # Per app: the units the upstream module makes wanted (by multi-user.target,
  # timers.target, phpfpm.target or the app's own target).
  held = {
    mastodon = {
      services = [
        "mastodon-web"
      ]
      ++ map (i: "mastodon-streaming-${toString i}") (lib.range 1 mastodon.streamingProcesses)
      ++ map (n: "mastodon-sidekiq-${n}") (builtins.attrNames mastodon.sidekiqProcesses);
      targets = [
        "mastodon"
        "mastodon-streaming"
      ];
      timers = lib.optional mastodon.mediaAutoRemove.enable "mastodon-media-auto-remove";
    };
    peertube = {
      services = [ "peertube" ];
      targets = [ ];
      timers = [ ];
    };
    pixelfed = {
      services = [
        "pixelfed-data-setup"
        "pixelfed-horizon"
        "phpfpm-pixelfed"
      ];
      targets = [ ];
      timers = [ "pixelfed-cron" ];
    };
  };

  heldApps = lib.filter (app: top.${app}.enable && top.${app}.holdServices) (builtins.attrNames held);
  heldUnits = kind: lib.concatMap (app: held.${app}.${kind}) heldApps;
in
{
  options.fediversity = lib.genAttrs (builtins.attrNames held) option;

  config.systemd = {
    services = lib.genAttrs (heldUnits "services") (_: { wantedBy = lib.mkForce [ ]; });
    targets = lib.genAttrs (heldUnits "targets") (_: { wantedBy = lib.mkForce [ ]; });
    timers = lib.genAttrs (heldUnits "timers") (_: { wantedBy = lib.mkForce [ ]; });
  };
}
