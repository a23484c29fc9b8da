"""The package names NixOS modules refer to, read from a module tree (standard library only).

    python3 standin_names.py TREE_DIR > names.json

Prints, for standin-pkgs.nix, `{"packages": TREE, "withPackages": [...],
"attributes": [...]}` where TREE maps each name to the names read from it
(`{}` for none):
- `packages`: every `pkgs.A`, `pkgs.A.B.C` in the tree's .nix files, the names in
  `inherit (pkgs) …;`, in `with pkgs; [ … ]` lists and in `…PackageNames = [ "A" … ]`,
  and the names given to `mkPackageOption pkgs "A"` / `[ "A" "B" ]`;
- `withPackages`: every name inside `withPackages (…)` (what `p: [ p.JSON ]` may
  ask of its package set);
- `attributes`: the names read from a package (`cfg.package.NAME`), which every
  placeholder package has as another placeholder.

Reading the tree (about 2,600 files) takes a fraction of a second; the result
is not kept in the repository.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

_NAME = r"[A-Za-z_][A-Za-z0-9_'-]*"
_REFERENCE = re.compile(rf"\bpkgs[A-Za-z0-9_]*((?:\.{_NAME}){{1,4}})")
_PACKAGE_OPTION = re.compile(rf'mkPackageOption(?:MD)?\s+pkgs\s+(?:"({_NAME})"|\[([^\]]*)\])')
_WITH_PACKAGES = re.compile(r"\b(?:withPackages|withPlugins|withExtensions)\s*\(")
_WITH_PKGS = re.compile(r"\bwith\s+pkgs[\w.]*\s*;[^\[;]{0,80}\[")
_NAMES_LIST = re.compile(r"\b[A-Za-z]*PackageNames\s*=\s*\[")
_QUOTED = re.compile(rf'"({_NAME})"')
_PACKAGE_ATTRIBUTE = re.compile(rf"[A-Za-z]ackage\.({_NAME})")
_INHERIT = re.compile(r"\binherit\s*\(\s*pkgs\s*\)([^;]*);")
_IDENT = re.compile(_NAME)
# package sets that are the package set itself in the stand-in
_ALIASES = frozenset(
    {
        "buildPackages",
        "pkgsBuildBuild",
        "pkgsBuildHost",
        "pkgsHostTarget",
        "pkgsTargetTarget",
        "targetPackages",
        "pkgsStatic",
        "pkgsi686Linux",
        "__splicedPackages",
        "pkgs",
    }
)
_KEYWORDS = frozenset({"if", "then", "else", "let", "in", "with", "inherit", "rec", "or"})

Tree = dict[str, Any]


def _closing(text: str, start: int, pair: str) -> str:
    """The text from `start` (just after an opening bracket) to the matching closing one."""
    depth = 1
    for i in range(start, min(len(text), start + 4000)):
        if text[i] == pair[0]:
            depth += 1
        elif text[i] == pair[1]:
            depth -= 1
            if depth == 0:
                return text[start:i]
    return ""


def _add(tree: Tree, path: list[str]) -> None:
    while path and path[0] in _ALIASES:
        path = path[1:]
    for name in path:
        if name in _KEYWORDS:
            return
        tree = tree.setdefault(name, {})


def standin_names(tree_dir: Path) -> dict[str, Any]:
    packages: Tree = {}
    members: set[str] = set()
    attributes: set[str] = set()
    for path in sorted((tree_dir / "nixos").rglob("*.nix")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _REFERENCE.finditer(text):
            _add(packages, match.group(1).split(".")[1:])
        for match in _INHERIT.finditer(text):
            for name in _IDENT.findall(match.group(1)):
                _add(packages, [name])
        for match in _WITH_PKGS.finditer(text):
            for name in _IDENT.findall(_closing(text, match.end(), "[]")):
                _add(packages, [name])
        for match in _NAMES_LIST.finditer(text):
            for name in _QUOTED.findall(_closing(text, match.end(), "[]")):
                _add(packages, [name])
        for match in _PACKAGE_OPTION.finditer(text):
            single, listed = match.groups()
            _add(packages, [single] if single else _QUOTED.findall(listed))
        for match in _WITH_PACKAGES.finditer(text):
            members.update(_IDENT.findall(_closing(text, match.end(), "()")))
        attributes.update(_PACKAGE_ATTRIBUTE.findall(text))
    return {
        "packages": packages,
        "withPackages": sorted(members - _KEYWORDS),
        "attributes": sorted(a for a in attributes - _KEYWORDS if not a.startswith("with")),
    }


if __name__ == "__main__":
    json.dump(standin_names(Path(sys.argv[1])), sys.stdout, sort_keys=True)
