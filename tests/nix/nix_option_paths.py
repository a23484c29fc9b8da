"""Which NixOS option paths does a module set, and do they exist?

`option_paths_set` reads a module with tree-sitter (no Nix evaluation) and
returns the option paths its `config` part sets, as dotted strings:
dynamic attribute names (`${cfg.domain}`, `"${x}"`) become `<name>`, list
elements that are attrsets become `*`, other non-identifier names are quoted.
`lib.mkIf` / `mkMerge` / `mkDefault` / `optionalAttrs` ..., `//`, `if`,
`let`, let-bound attrsets and `lib.genAttrs names (n: value)` (value under
`<name>`) are followed. Only paths under ROOTS are kept.

`check_paths` compares such paths with the reference data
(shared/reference/nixos-options.json) and returns one message per problem.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter_nix
from tree_sitter import Language, Node, Parser

ROOTS = frozenset({"services", "security", "networking", "users", "systemd", "environment"})
DYNAMIC = "<name>"
ELEMENT = "*"
Segments = tuple[str, ...]

REFERENCE_ENV = "FEDI_TUI_NIXOS_OPTIONS"
# A copy of shared/reference/nixos-options.json, so the tests run in a clone of this
# repository alone; tests/unit/test_reference_copies.py keeps it equal to the original.
DEFAULT_REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "nixos-options.json"

# Options outside the services the reference covers that modules may set.
# The reference cannot vouch for these: keep the list short and say why each is needed.
ALLOWED_EXTRA_PATHS: dict[str, str] = {
    "networking.firewall.allowedTCPPorts": "open 80/443 for nginx and ACME, and the SSH port",
    "services.openssh.enable": "keep sshd on: fedi-tui deploys through it",
    "services.openssh.ports": "the port fedi-tui logs in on",
    "services.openssh.settings.PermitRootLogin": "key login for a root deploy user",
    "services.qemuGuest.enable": "the Proxmox runtime reads addresses and host keys through it",
    "users.users.<name>.isNormalUser": "a deploy user other than root",
    "users.users.<name>.extraGroups": "a deploy user other than root: group wheel",
    "security.sudo.enable": "a deploy user other than root runs nixos-rebuild with sudo",
    "security.sudo.extraRules": "... without a password",
    "networking.hostName": "host name chosen by the deploy tool",
    "systemd.tmpfiles.rules": "create the secrets directories with the right owners",
    "users.users.<name>.openssh.authorizedKeys.keys": "operator SSH keys",
    "system.stateVersion": "set once per host (not under ROOTS, listed for completeness)",
    "systemd.services.<name>.wantedBy": "holdServices: an app's units wanted by nothing",
    "systemd.targets.<name>.wantedBy": "holdServices: an app's targets wanted by nothing",
    "systemd.timers.<name>.wantedBy": "holdServices: an app's timers wanted by nothing",
    "environment.systemPackages": "an app's admin script (fediversity-mastodon-settings)",
}

# Functions whose last argument is the value being set, with their arity.
_WRAPPERS = {
    "mkIf": 2,
    "mkOverride": 2,
    "mkOrder": 2,
    "optionalAttrs": 2,
    "mkDefault": 1,
    "mkForce": 1,
    "mkOptionDefault": 1,
    "mkVMOverride": 1,
    "mkBefore": 1,
    "mkAfter": 1,
}
# Module attributes that are not option definitions (shorthand modules).
_NON_CONFIG = frozenset({"imports", "options", "meta", "disabledModules", "_file", "key"})

_PARSER = Parser(Language(tree_sitter_nix.language()))


# ----------------------------------------------------------------- paths

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def join_path(segments: Iterable[str]) -> str:
    """Dotted path; names that are not identifiers are quoted as in the NixOS manual."""
    return ".".join(
        s if s in (DYNAMIC, ELEMENT) or _IDENTIFIER.fullmatch(s) else f'"{s}"' for s in segments
    )


def split_path(path: str) -> Segments:
    """Inverse of join_path."""
    return tuple(m.group(1) or m.group(2) for m in re.finditer(r'"([^"]*)"|([^.]+)', path))


# ------------------------------------------------------------ extraction


def option_paths_set(source: str | Path) -> set[str]:
    """Option paths (under ROOTS) that the module in `source` sets.

    `source` is a Path, a one-line str ending in ".nix" (a file name), or module text.
    Raises ValueError on syntax errors outside function formals.
    """
    if isinstance(source, str) and "\n" not in source and source.endswith(".nix"):
        source = Path(source)
    text = source.read_text() if isinstance(source, Path) else source
    tree = _PARSER.parse(text.encode())
    errors = list(_syntax_errors(tree.root_node))
    if errors:
        where = source if isinstance(source, Path) else "text"
        raise ValueError(f"cannot parse Nix module {where} at {errors[0].start_point}")
    walker = _Walker()
    walker.module(tree.root_node)
    return {join_path(p) for p in walker.paths}


def _syntax_errors(node: Node) -> Iterator[Node]:
    """Parse errors, except in function formals: tree-sitter-nix 0.1.0 rejects
    a trailing comma there (`{ a, b ? 1, }:`), which Nix accepts. (Real syntax
    is checked by `nix-instantiate --parse` in test_nix_parse.py.)"""
    if node.type == "formals":
        return
    if node.type == "ERROR" or node.is_missing:
        yield node
    for child in node.children:
        yield from _syntax_errors(child)


@dataclass
class _Scope:
    """let-bound names visible at a point: name -> (expression, its scope)."""

    names: dict[str, tuple[Node, _Scope]]

    def extended(self, binding_sets: Iterable[Node]) -> _Scope:
        scope = _Scope(dict(self.names))
        for binding in (b for bs in binding_sets for b in _bindings_of(bs)):
            attrs = _attrpath(binding)
            if binding.type == "binding" and len(attrs) == 1:
                scope.names[attrs[0]] = (_field(binding, "expression"), scope)
        return scope


def _field(node: Node, name: str) -> Node:
    child = node.child_by_field_name(name)
    if child is None:
        raise ValueError(f"{node.type} without {name} at {node.start_point}")
    return child


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def _bindings_of(binding_set: Node) -> Iterator[Node]:
    yield from (c for c in binding_set.named_children if c.type != "comment")


def _attr_name(attr: Node) -> str:
    if attr.type == "identifier":
        return _text(attr)
    if attr.type == "string_expression" and not any(
        c.type == "interpolation" for c in attr.named_children
    ):
        return "".join(_text(c) for c in attr.named_children)
    return DYNAMIC  # interpolation or interpolated string


def _attrpath(binding: Node) -> Segments:
    """Names bound by a binding / inherit node."""
    if binding.type == "binding":
        return tuple(
            _attr_name(a) for a in _field(binding, "attrpath").children_by_field_name("attr")
        )
    return ()


def _inherited(binding: Node) -> list[str]:
    attrs = binding.child_by_field_name("attrs")
    return [] if attrs is None else [_attr_name(a) for a in attrs.children_by_field_name("attr")]


def _binding_sets(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type == "binding_set"]


_ATTRSETS = frozenset({"attrset_expression", "rec_attrset_expression"})


def _unwrap(node: Node) -> Node:
    while node.type == "parenthesized_expression":
        node = _field(node, "expression")
    return node


def _function_name(node: Node) -> str | None:
    if node.type == "variable_expression":
        return _text(_field(node, "name"))
    if node.type == "select_expression":
        attrs = _field(node, "attrpath").children_by_field_name("attr")
        return _text(attrs[-1]) if attrs else None
    return None


class _Walker:
    def __init__(self) -> None:
        self.paths: set[Segments] = set()
        self._following: set[int] = set()

    def module(self, root: Node) -> None:
        node, scope = _field(root, "expression"), _Scope({})
        while node.type in {
            "function_expression",
            "let_expression",
            "parenthesized_expression",
            "with_expression",
        }:
            if node.type == "let_expression":
                scope = scope.extended(_binding_sets(node))
            node = _field(node, "body" if node.type != "parenthesized_expression" else "expression")
        if node.type not in _ATTRSETS:
            return
        bindings = [b for bs in _binding_sets(node) for b in _bindings_of(bs)]
        names = {_attrpath(b)[0] for b in bindings if _attrpath(b)}
        structured = bool(names & {"config", "options"})
        for binding in bindings:
            path = _attrpath(binding)
            if binding.type != "binding" or not path:
                continue
            if structured and path[0] == "config":
                self.value(_field(binding, "expression"), path[1:], scope)
            elif not structured and path[0] not in _NON_CONFIG:
                self.value(_field(binding, "expression"), path, scope)

    def record(self, path: Segments) -> None:
        if path and path[0] in ROOTS:
            self.paths.add(path)

    def value(self, node: Node, path: Segments, scope: _Scope) -> None:
        kind = node.type
        if kind == "parenthesized_expression":
            self.value(_field(node, "expression"), path, scope)
        elif kind in _ATTRSETS:
            inner = scope.extended(_binding_sets(node)) if kind.startswith("rec") else scope
            self.attrset(node, path, inner)
        elif kind == "let_expression":
            self.value(_field(node, "body"), path, scope.extended(_binding_sets(node)))
        elif kind == "with_expression":
            self.value(_field(node, "body"), path, scope)
        elif kind == "if_expression":
            self.value(_field(node, "consequence"), path, scope)
            self.value(_field(node, "alternative"), path, scope)
        elif kind == "binary_expression" and _text(_field(node, "operator")) in {"//", "++"}:
            self.value(_field(node, "left"), path, scope)
            self.value(_field(node, "right"), path, scope)
        elif kind == "apply_expression":
            self.application(node, path, scope)
        elif kind == "list_expression":
            self.elements(node, path, scope)
        elif kind == "variable_expression" and _text(_field(node, "name")) in scope.names:
            self.variable(node, path, scope)
        else:
            self.record(path)

    def attrset(self, node: Node, path: Segments, scope: _Scope) -> None:
        bindings = [b for bs in _binding_sets(node) for b in _bindings_of(bs)]
        if not bindings:
            self.record(path)
        for binding in bindings:
            if binding.type == "binding":
                self.value(_field(binding, "expression"), path + _attrpath(binding), scope)
            else:  # inherit / inherit_from
                for name in _inherited(binding):
                    self.record((*path, name))

    def application(self, node: Node, path: Segments, scope: _Scope) -> None:
        args: list[Node] = []
        while node.type == "apply_expression":
            args.insert(0, _field(node, "argument"))
            node = _field(node, "function")
        name = _function_name(node)
        merged = _unwrap(args[0]) if name == "mkMerge" and len(args) == 1 else None
        if merged is not None and merged.type == "list_expression":
            for element in merged.children_by_field_name("element"):
                self.value(element, path, scope)  # each element defines the same path
        elif name in _WRAPPERS and len(args) == _WRAPPERS[name]:
            self.value(args[-1], path, scope)
        elif (
            name == "genAttrs"
            and len(args) == 2
            and _unwrap(args[1]).type == ("function_expression")
        ):  # `genAttrs names (n: value)`: value under each (dynamic) name
            self.value(_field(_unwrap(args[1]), "body"), (*path, DYNAMIC), scope)
        else:
            self.record(path)

    def elements(self, node: Node, path: Segments, scope: _Scope) -> None:
        """A list value: attrset elements are list-of-submodule entries (`*`)."""
        elements = [_unwrap(e) for e in node.children_by_field_name("element")]
        if not elements or any(e.type not in _ATTRSETS for e in elements):
            self.record(path)
        for element in elements:
            if element.type in _ATTRSETS:
                self.value(element, (*path, ELEMENT), scope)

    def variable(self, node: Node, path: Segments, scope: _Scope) -> None:
        target, target_scope = scope.names[_text(_field(node, "name"))]
        if target.id in self._following:
            self.record(path)
            return
        self._following.add(target.id)
        try:
            self.value(target, path, target_scope)
        finally:
            self._following.discard(target.id)


# ------------------------------------------------------------- reference

# Families of freeform keys whose upstream keys the reference lists: a key of
# such a family must be one of the listed keys (catches typos).
_DOCUMENTED_FAMILIES: dict[Segments, tuple[str, ...]] = {
    ("services", "mastodon", "extraConfig"): ("S3_", "AWS_"),
    ("services", "pixelfed", "settings"): ("AWS_", "MAIL_"),
    ("services", "peertube", "settings"): ("object_storage.", "smtp."),
}
# Freeform keys that hold credentials: those must come from files, never Nix.
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|credential|access_key|(^|_)key$|^auth$", re.IGNORECASE
)
# Options whose type is the nginx virtual host submodule (not attrsOf).
_VHOST = ("services", "nginx", "virtualHosts", DYNAMIC)


@dataclass(frozen=True)
class Reference:
    options: dict[Segments, str]  # option path -> declared type
    freeform: dict[Segments, dict[str, Any]]  # freeform option -> documentation
    forbidden: tuple[tuple[Segments, str], ...]  # path prefix -> why it must not be set
    covered: tuple[Segments, ...]  # option prefixes the reference covers completely


def reference_path() -> Path:
    return Path(os.environ.get(REFERENCE_ENV) or DEFAULT_REFERENCE)


@cache
def load_reference(path: Path | None = None) -> Reference:
    data = json.loads((path or reference_path()).read_text())
    forbidden: list[tuple[Segments, str]] = []
    for entry in data["removed_options"]:
        forbidden += [(p, "removed from NixOS") for p in _patterns(entry)]
    for entry, target in data["renamed_options"].items():
        forbidden += [(p, f"renamed (now {target})") for p in _patterns(entry)]
    for entry, info in data["options_only_in_older_versions_do_not_emit"].items():
        forbidden += [
            (p, f"only in older NixOS ({info.get('note', '')})") for p in _patterns(entry)
        ]
    return Reference(
        options={split_path(k): v["type"] for k, v in data["options"].items()},
        freeform={split_path(k): v for k, v in data["freeform_settings"].items()},
        forbidden=tuple(forbidden),
        covered=tuple(split_path(f["option_prefix"]) for f in data["source_files"]),
    )


def _patterns(entry: str) -> list[Segments]:
    """`a.{b,c.d}.e (note)` / `a.<x|y>` / `a.b.*` -> path prefixes."""
    entry = re.sub(r"\s*\(.*\)$", "", entry).removesuffix(".*")
    match = re.search(r"\{([^{}]*)\}|<([^<>]*\|[^<>]*)>", entry)
    if match is None:
        return [split_path(entry)]
    choices = match.group(1).split(",") if match.group(1) is not None else match.group(2).split("|")
    head, tail = entry[: match.start()], entry[match.end() :]
    return [p for choice in choices for p in _patterns(head + choice + tail)]


def _segment_matches(ref: str, seg: str) -> bool:
    if ref == DYNAMIC:
        return seg != ELEMENT
    return ref == seg


def _matches(ref: Segments, path: Segments) -> bool:
    return len(ref) == len(path) and all(map(_segment_matches, ref, path))


def _starts_with(path: Segments, prefix: Segments) -> bool:
    return len(path) >= len(prefix) and _matches(prefix, path[: len(prefix)])


def _lookup(keys: Iterable[Segments], path: Segments) -> Segments | None:
    return next((k for k in keys if _matches(k, path)), None)


def check_paths(paths: Iterable[str], reference: Reference | None = None) -> list[str]:
    """One message per path that must not be set; empty if all are fine."""
    ref = reference or load_reference()
    allowed = [split_path(p) for p in ALLOWED_EXTRA_PATHS]
    problems = []
    for dotted in sorted(set(paths)):
        problem = _problem(split_path(dotted), ref, allowed)
        if problem:
            problems.append(f"{dotted}: {problem}")
    return problems


def _problem(path: Segments, ref: Reference, allowed: list[Segments]) -> str | None:
    for prefix, why in ref.forbidden:
        if _starts_with(path, prefix):
            return why
    if _lookup(ref.options, path) or _lookup(ref.freeform, path):
        return None
    for size in range(len(path) - 1, 0, -1):
        head, rest = path[:size], path[size:]
        freeform = _lookup(ref.freeform, head)
        if freeform is not None:
            return _freeform_problem(freeform, rest, ref.freeform[freeform])
        option = _lookup(ref.options, head)
        if option is None:
            continue
        kind = ref.options[option]
        if "vhost-options.nix" in kind and not kind.startswith("types.attrsOf"):
            inner = _problem(_VHOST + rest, ref, allowed)
            return inner and f"{inner} (checked as {join_path(_VHOST + rest)})"
        if kind == "types.attrs" or (kind.startswith("types.attrsOf") and "submodule" not in kind):
            return None
        return f"no such option below {join_path(option)} ({kind})"
    if any(_starts_with(path, prefix) for prefix in ref.covered):
        return "no such option in the reference"
    if _lookup(allowed, path):
        return None
    return "not covered by the reference and not in ALLOWED_EXTRA_PATHS"


def _freeform_problem(option: Segments, rest: Segments, info: dict[str, Any]) -> str | None:
    if any(_SECRET_KEY.search(seg) for seg in rest):
        return "looks like a secret: read it from a file, do not put it in Nix"
    documented, secrets = _documented_keys(info)
    key = ".".join(rest)
    if key in secrets:
        return "upstream documents this as a secret: read it from a file"
    families = _DOCUMENTED_FAMILIES.get(option, ())
    if any(key.startswith(f) for f in families) and not any(
        d == key or d.startswith(key + ".") for d in documented
    ):
        return f"not a documented key of {join_path(option)}"
    return None


def _documented_keys(info: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(documented keys, secret keys) from a freeform_settings entry."""
    documented: set[str] = set()
    secrets: set[str] = set()
    for field, value in info.items():
        entries = value.get("keys", []) if isinstance(value, dict) else value
        if not field.startswith(("upstream_", "secret_keys")) or not isinstance(entries, list):
            continue
        for entry in entries:
            names, _, note = entry.partition(" (")
            for name in (n.strip() for n in names.split(" / ")):
                documented.add(name)
                if field.startswith("secret_keys") or re.search(r"secretFile|EnvFiles", note):
                    secrets.add(name)
    # PeerTube reads bucket_name, prefix and base_url for every object storage kind.
    for name in [d for d in documented if d.endswith(".bucket_name")]:
        documented |= {
            name.replace(".bucket_name", ".prefix"),
            name.replace(".bucket_name", ".base_url"),
        }
    return documented, secrets
