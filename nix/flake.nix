{
  description = "Fediversity: NixOS module running Mastodon, PeerTube and Pixelfed for one customer";

  # No inputs: the module only uses `lib` and `pkgs` from the consuming system.
  outputs =
    { self }:
    {
      nixosModules.fediversity = import ./modules/fediversity;
      nixosModules.default = self.nixosModules.fediversity;
    };
}
