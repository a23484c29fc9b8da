# The `fediversity` NixOS module.
#
# Operator-facing options live under `fediversity.*`; the fedi-tui deploy tool
# generates their values. Secrets are never Nix values: the tool pushes them as
# files into `fediversity.secretsDir` and the modules only reference paths.
{
  imports = [
    ./common.nix
    ./hold.nix
    ./mastodon.nix
    ./peertube.nix
    ./pixelfed.nix
  ];
}
