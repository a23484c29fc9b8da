# Lists the options a module tree declares, using stub-lib.nix instead of nixpkgs.
# Result: { "<dotted.option.path>" = { type; description; default?; }; }
# Usage: nix-instantiate --store dummy:// --eval --strict --json eval-options.nix --argstr module /abs/path
{ module }:
let
  lib = import ./stub-lib.nix;
  args = {
    inherit lib;
    config = throw "option declarations must not depend on config";
    pkgs = throw "option declarations must not depend on pkgs";
  };

  load = m: if builtins.isFunction m then m args else m;
  # A module and everything it imports (paths or inline modules).
  collect =
    m:
    let
      value = load (if builtins.isPath m then import m else m);
    in
    [ value ] ++ builtins.concatMap collect (value.imports or [ ]);

  isOption = v: builtins.isAttrs v && (v._type or null) == "option";

  mergeDecls =
    path: a: b:
    builtins.mapAttrs (
      name: value:
      if a ? ${name} then
        if isOption value || isOption a.${name} then
          throw "option ${path}.${name} is declared twice"
        else
          mergeDecls "${path}.${name}" a.${name} value
      else
        value
    ) b
    // removeAttrs a (builtins.attrNames b);

  declarations = builtins.foldl' (mergeDecls "") { } (
    map (m: m.options or { }) (collect (/. + module))
  );

  describe =
    o:
    {
      inherit (o) type;
      description = o.description or null;
    }
    // lib.optionalAttrs (o ? default) { inherit (o) default; };

  flatten =
    prefix: set:
    builtins.concatMap (
      name:
      let
        value = set.${name};
        path = prefix ++ [ name ];
      in
      if isOption value then
        [
          {
            name = builtins.concatStringsSep "." path;
            value = describe value;
          }
        ]
      else if builtins.isAttrs value then
        flatten path value
      else
        throw "${builtins.concatStringsSep "." path} is neither an option nor an attrset of options"
    ) (builtins.attrNames set);
in
builtins.listToAttrs (flatten [ ] declarations)
