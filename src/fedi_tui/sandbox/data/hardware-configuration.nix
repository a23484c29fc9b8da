# Stands in for a NixOS host's own /etc/nixos/hardware-configuration.nix on the
# sandbox's machines and in the evaluation tests: what such a host must provide
# (README, "NixOS hosts"): its file systems and its boot loader.
{ ... }:
{
  fileSystems."/" = {
    device = "/dev/disk/by-uuid/00000000-0000-4000-8000-000000000000";
    fsType = "ext4";
  };
  boot.loader.grub.device = "/dev/sda";
}
