# Evaluates what a module tree SETS, using stub-lib.nix instead of nixpkgs.
#
# `config` is faked: `fediversity` = declared defaults updated with the JSON
# `fediversity` argument; `services` = the JSON `services` argument (for the
# few upstream values the modules read, e.g. services.mastodon.user).
# mkIf/mkMerge/mkOverride are resolved and the modules' definitions merged:
# attrsets recursively, lists concatenated, equal scalars kept, other
# conflicts are errors (priorities are ignored).
# Usage: nix-instantiate --store dummy:// --eval --strict --json eval-config.nix \
#          --argstr module /abs/path --argstr fediversity '{...}' --argstr services '{...}'
{
  module,
  fediversity,
  services ? "{}",
}:
let
  lib = import ./stub-lib.nix;
  inherit (builtins)
    attrNames
    concatMap
    filter
    foldl'
    isAttrs
    isList
    listToAttrs
    ;

  declared = import ./eval-options.nix { inherit module; };
  setAt =
    path: value:
    if path == [ ] then value else { ${builtins.head path} = setAt (builtins.tail path) value; };
  splitDots = s: filter builtins.isString (builtins.split "\\." s);
  defaults = foldl' lib.recursiveUpdate { } (
    map (name: setAt (splitDots name) declared.${name}.default) (
      filter (name: declared.${name} ? default) (attrNames declared)
    )
  );

  config = {
    fediversity = lib.recursiveUpdate defaults.fediversity (builtins.fromJSON fediversity);
    services = builtins.fromJSON services;
  };
  args = {
    inherit lib config;
    # the modules' own small scripts (writeShellApplication) stand in as their names; any
    # other use of pkgs is an error here (the real evaluation, tests/nix/nixos_eval.py,
    # builds them against the stand-in packages)
    pkgs = {
      writeShellApplication = script: "<script ${script.name}>";
    };
  };
  load = m: if builtins.isFunction m then m args else m;
  collect =
    m:
    let
      value = load (if builtins.isPath m then import m else m);
    in
    [ value ] ++ concatMap collect (value.imports or [ ]);

  absent = {
    _type = "absent";
  };
  isAbsent = v: isAttrs v && (v._type or null) == "absent";

  resolve =
    v:
    if isAttrs v then
      let
        type = v._type or null;
      in
      if type == "if" then
        (if v.condition then resolve v.content else absent)
      else if type == "merge" then
        foldl' (merge "<mkMerge>") absent (map resolve v.contents)
      else if type == "override" then
        resolve v.content
      else
        let
          resolved = builtins.mapAttrs (_: resolve) v;
        in
        removeAttrs resolved (filter (name: isAbsent resolved.${name}) (attrNames resolved))
    else if isList v then
      map resolve v
    else
      v;

  merge =
    path: a: b:
    if isAbsent a then
      b
    else if isAbsent b then
      a
    else if isAttrs a && isAttrs b then
      a
      // listToAttrs (
        map (name: {
          inherit name;
          value = if a ? ${name} then merge "${path}.${name}" a.${name} b.${name} else b.${name};
        }) (attrNames b)
      )
    else if isList a && isList b then
      a ++ b
    else if a == b then
      a
    else
      throw "conflicting definitions for ${path}";

  definitions = map (m: resolve (m.config or { })) (collect (/. + module));
in
foldl' (merge "config") { } definitions
