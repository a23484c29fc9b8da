# A tiny stand-in for nixpkgs `lib`, enough to evaluate the fediversity module
# without nixpkgs. Types evaluate to JSON-friendly descriptions ("str",
# { enum = [ ... ]; }, { listOf = ...; }); mkOption returns its arguments tagged
# with _type = "option"; mkIf/mkMerge/mkOverride return tagged values that
# eval-config.nix resolves.
let
  inherit (builtins)
    all
    any
    attrNames
    attrValues
    concatMap
    concatStringsSep
    elem
    filter
    foldl'
    genList
    isAttrs
    listToAttrs
    mapAttrs
    stringLength
    substring
    ;

  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;

  recursiveUpdate =
    lhs: rhs:
    lhs
    // mapAttrs (
      name: value:
      if isAttrs value && isAttrs (lhs.${name} or null) then recursiveUpdate lhs.${name} value else value
    ) rhs;
in
{
  inherit
    all
    any
    attrNames
    attrValues
    concatMap
    concatStringsSep
    elem
    filter
    foldl'
    hasPrefix
    mapAttrs
    recursiveUpdate
    ;

  types = {
    str = "str";
    int = "int";
    bool = "bool";
    path = "path";
    port = "port";
    lines = "lines";
    attrs = "attrs";
    anything = "anything";
    enum = values: { enum = values; };
    listOf = type: { listOf = type; };
    attrsOf = type: { attrsOf = type; };
    nullOr = type: { nullOr = type; };
    ints = {
      positive = "ints.positive";
      unsigned = "ints.unsigned";
      between = lowest: highest: {
        "ints.between" = [
          lowest
          highest
        ];
      };
    };
  };

  mkOption = args: args // { _type = "option"; };
  mkEnableOption = name: {
    _type = "option";
    type = "bool";
    default = false;
    description = "Whether to enable ${name}.";
  };
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };

  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkDefault = content: {
    _type = "override";
    priority = 1000;
    inherit content;
  };
  mkForce = content: {
    _type = "override";
    priority = 50;
    inherit content;
  };

  optional = cond: x: if cond then [ x ] else [ ];
  range = first: last: if first > last then [ ] else genList (n: first + n) (last - first + 1);
  optionals = cond: xs: if cond then xs else [ ];
  optionalAttrs = cond: set: if cond then set else { };
  optionalString = cond: s: if cond then s else "";
  genAttrs =
    names: f:
    listToAttrs (
      map (name: {
        inherit name;
        value = f name;
      }) names
    );
  removePrefix =
    prefix: s:
    if hasPrefix prefix s then
      substring (stringLength prefix) (stringLength s - stringLength prefix) s
    else
      s;
}
