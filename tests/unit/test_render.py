"""Rendering NixOS configurations: parses, reads back, golden files, no secrets, no drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from fedi_tui.adapters.nixtool import eval_json, parse_files
from fedi_tui.cli import main
from fedi_tui.core.apps.base import AppOptions, camel
from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.nixexpr import expr, string
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import module_files, render_all
from fedi_tui.core.deploy.secretgen import generate_all
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.workspace import Workspace
from tests.nix.fediversity_options import fediversity_options
from tests.nix.nix_option_paths import check_paths, option_paths_set
from tests.paths import DEMO, ROOT, SAMPLES

GOLDEN = ROOT / "tests" / "golden" / "demo"


def _render(state: Path) -> dict[str, dict[str, str]]:
    spec = load_state(state).spec
    modules = module_files(nix_modules_dir())
    config = map_resources(spec, RecordedState())
    keys = read_deploy_keys(spec, state, (m.runtime for m in config.machines))
    return {name: r.files for name, r in render_all(spec, config, modules, keys).items()}


def _write(rendered: dict[str, dict[str, str]], out: Path) -> list[Path]:
    written = []
    for machine, files in rendered.items():
        for rel, text in files.items():
            path = out / machine / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_rendered_file_parses(sample: Path, tmp_path: Path) -> None:
    written = _write(_render(sample), tmp_path)
    nix_files = [p for p in written if p.suffix == ".nix"]
    assert nix_files
    assert parse_files(nix_files) == []


def test_parse_check_finds_a_broken_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.nix", tmp_path / "bad.nix"
    good.write_text("{ a = 1; }\n")
    bad.write_text("{ a = 1 }\n")
    errors = parse_files([good, bad])
    assert [(e.file, e.line) for e in errors] == [(bad, 1)]


def test_rendered_demo_matches_golden_files(tmp_path: Path) -> None:
    """A change in rendered output must be a reviewed change: update tests/golden on purpose."""
    rendered = _render(DEMO)
    golden = {
        str(p.relative_to(GOLDEN)): p.read_text() for p in sorted(GOLDEN.rglob("*")) if p.is_file()
    }
    # the module files themselves are checked by tests/nix; their hashes are in the manifest
    produced = {
        f"{m}/{rel}": text
        for m, files in rendered.items()
        for rel, text in files.items()
        if rel in ("configuration.nix", "manifest.json")
    }
    assert sorted(produced) == sorted(golden)
    for rel, text in produced.items():
        assert text == golden[rel], f"{rel} differs from tests/golden/demo/{rel}"


def test_render_command_writes_one_directory_per_machine(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["-s", str(demo_copy), "render", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bare-1",
        "coop-mastodon",
        "coop-peertube",
        "photoclub-pixelfed",
    ]
    manifest = json.loads((out / "bare-1" / "manifest.json").read_text())
    assert manifest["apps"] == ["mastodon", "peertube"]
    assert manifest["operators"] == ["school"]
    assert set(manifest["files"]) == {
        str(p.relative_to(out / "bare-1")) for p in (out / "bare-1").rglob("*.nix")
    }
    assert main(["-s", str(demo_copy), "render", "--out", str(out), "--operator", "school"]) == 0
    assert main(["-s", str(demo_copy), "render", "--operator", "nobody"]) == 1


def test_manifest_hash_changes_with_content(demo_copy: Path) -> None:
    before = _render(demo_copy)
    save_state(
        load_state(demo_copy), [Edit(("operators", "coop", "apps", "mastodon", "size"), "large")]
    )
    assert _render(demo_copy) == before  # size steers the VM, not the NixOS config
    save_state(
        load_state(demo_copy),
        [Edit(("operators", "coop", "apps", "mastodon", "site_title"), "New")],
    )
    after = _render(demo_copy)
    new_hash = json.loads(after["coop-mastodon"]["manifest.json"])["hash"]
    assert new_hash != json.loads(before["coop-mastodon"]["manifest.json"])["hash"]
    assert after["coop-peertube"] == before["coop-peertube"]


# --- values read back exactly ---------------------------------------------------

nix_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40
)
tricky = st.sampled_from(
    ['"', "\\", "${x}", "$${", "''", "'''${", "\n", "\r\n", "\t", "é", "😀", "", "$", "\\${"]
)
strings = st.lists(st.one_of(nix_text, tricky), max_size=6).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(strings, min_size=1, max_size=8), st.dictionaries(strings, strings, max_size=4))
def test_strings_read_back_unchanged(values: list[str], attrs: dict[str, str]) -> None:
    data = {"values": values, "attrs": attrs}
    assert eval_json(expr(data)) == data


def test_operator_name_cannot_change_structure(demo_copy: Path, tmp_path: Path) -> None:
    evil = 'x"; services.openssh.enable = false; "'
    save_state(load_state(demo_copy), [Edit(("operators", "coop", "name"), evil)])
    files = _render(demo_copy)["coop-peertube"]
    path = tmp_path / "configuration.nix"
    path.write_text(files["configuration.nix"])
    config = eval_json(f"(import {path} {{ }}).fediversity.peertube")
    assert config["siteTitle"] == evil  # the name arrived as a value ...
    top = eval_json(f"builtins.attrNames (import {path} {{ }})")
    assert top == ["fediversity", "imports", "networking", "services", "system", "users"]
    sshd = eval_json(f"(import {path} {{ }}).services.openssh.enable")
    assert sshd is True  # ... not as code


def test_string_escapes_dollar_brace() -> None:
    assert string("${x}") == '"\\${x}"'


# --- option names -----------------------------------------------------------------


def test_rendered_configuration_sets_only_known_options(tmp_path: Path) -> None:
    for files in _render(DEMO).values():
        paths = option_paths_set(files["configuration.nix"])
        assert "services.openssh.enable" in paths
        assert check_paths(paths) == []


# --- secrets ------------------------------------------------------------------------


def test_generated_secrets_never_appear_in_rendered_files() -> None:
    spec = load_state(DEMO).spec
    rendered = _render(DEMO)
    secret_values: list[str] = []
    for machine in map_resources(spec, RecordedState()).machines:
        for app in machine.apps:
            generated = generate_all(
                app.requirements, "GK" + "a1" * 12, SecretStr("s" * 8 + "x" * 56)
            )
            assert set(generated) == {s.name for s in app.module.secrets}
            for value in generated.values():
                secret_values += [
                    line.split("=", 1)[-1] for line in value.get_secret_value().splitlines()
                ]
    assert len(secret_values) >= 5 and all(len(v) >= 24 for v in secret_values)
    for files in rendered.values():
        for rel, text in files.items():
            for value in secret_values:
                assert value not in text, f"a secret value appears in {rel}"


# --- the Python options and the Nix options do not drift apart ------------------------

_NIX_TYPES = {bool: "bool", int: "int", str: "str"}


def _expected_nix_type(annotation: object) -> object:
    import typing

    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(annotation))}
    if origin is typing.Annotated or (origin is not None and len(args) == 1 and origin is not list):
        return _expected_nix_type(args[0])
    if origin is list:
        return {"listOf": _expected_nix_type(args[0])}
    return _NIX_TYPES[annotation]  # type: ignore[index]


def _python_options(model: type[BaseModel], prefix: str) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("nix") is False:
            continue
        path = f"{prefix}.{camel(name)}"
        import typing

        inner = [
            a
            for a in (field.annotation, *typing.get_args(field.annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if inner:
            out |= _python_options(inner[0], path)
            continue
        entry: dict[str, object] = {"type": _expected_nix_type(field.annotation)}
        default = field.get_default(call_default_factory=True)
        if default is not None and not field.is_required():
            entry["default"] = default
        out[path] = entry
    return out


# Nix options fedi-tui fills in itself rather than from the operator's options.
INFRA = {"s3.bucket", "s3.publicUrl", "holdServices"}  # set by the tool, not the operator
# Python options whose default is computed when rendering (the Nix option has no default).
COMPUTED_DEFAULT = {"domain", "siteTitle"}


@pytest.mark.parametrize("app", sorted(installed_apps()))
def test_python_options_match_nix_options(app: str) -> None:
    nix = {k: v for k, v in fediversity_options().items() if k.startswith(f"fediversity.{app}.")}
    python = _python_options(installed_apps()[app].options, f"fediversity.{app}")
    assert issubclass(installed_apps()[app].options, AppOptions)
    assert sorted(set(nix) - set(python)) == sorted(f"fediversity.{app}.{k}" for k in INFRA)
    assert sorted(set(python) - set(nix)) == []
    for path, entry in python.items():
        nix_entry = nix[path]
        assert nix_entry["type"] == entry["type"], path
        leaf = path.rsplit(".", 1)[1]
        if leaf in COMPUTED_DEFAULT or path.endswith((".admin.username", ".admin.email")):
            assert "default" not in nix_entry, path
        else:
            assert nix_entry.get("default") == entry.get("default"), path


def test_golden_directory_is_not_empty() -> None:
    assert (GOLDEN / "bare-1" / "configuration.nix").is_file()


def write_golden() -> None:  # pragma: no cover - run by hand after reviewing a change
    """python -c 'from tests.unit.test_render import write_golden; write_golden()'"""
    shutil.rmtree(GOLDEN, ignore_errors=True)
    rendered = _render(DEMO)
    _write({m: {k: v for k, v in f.items() if "/" not in k} for m, f in rendered.items()}, GOLDEN)


def test_a_held_workspace_holds_every_app_and_changes_nothing_else() -> None:
    """A migration target renders held (phases 1-6): `holdServices = true;` for each app,
    the rest of the configuration as it is unheld."""
    ws = Workspace.open(DEMO)
    held = ws.with_held(True)
    assert not ws.held and held.held
    for name, machine in ws.rendered.items():
        config = machine.files["configuration.nix"]
        apps = len(json.loads(machine.files["manifest.json"])["apps"])
        held_config = held.rendered[name].files["configuration.nix"]
        assert "holdServices" not in config
        assert held_config.count("holdServices = true;") == apps > 0
        kept = [line for line in held_config.splitlines() if "holdServices" not in line]
        assert kept == config.splitlines()
        assert held.rendered[name].hash != machine.hash
