"""Rendered configurations are whole systems: boot modules, release, deploy key, no lock-out.

(That NixOS accepts them is proved in tests/nix/test_nixos_eval.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedi_tui.core.deploy import render
from fedi_tui.core.deploy.deploykey import public_key_path, read_public_key
from fedi_tui.core.deploy.nixexpr import Raw, expr, read_module
from fedi_tui.core.deploy.reachable import Login, check_reachable, lockout_problems
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import Edit
from tests.paths import DEMO_DEPLOY_KEY
from tests.unit.conftest import RunCli

DEMO_KEY = DEMO_DEPLOY_KEY.read_text().strip()
ROOT_LOGIN = Login("root", 22, DEMO_KEY)


def _rendered(state: Path) -> dict[str, str]:
    from fedi_tui.core.workspace import Workspace

    ws = Workspace.open(state)
    return {name: r.files["configuration.nix"] for name, r in ws.rendered.items()}


# --- the deploy key -------------------------------------------------------------------


def test_deploy_key_path_is_relative_to_the_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "conf" / "fedi.toml"
    assert public_key_path("keys/deploy", state) == tmp_path / "conf" / "keys" / "deploy.pub"
    assert public_key_path("/abs/deploy", state) == Path("/abs/deploy.pub")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert public_key_path("~/.ssh/k", state) == tmp_path / "home" / ".ssh" / "k.pub"


def test_every_machine_authorizes_the_deploy_key(demo_copy: Path) -> None:
    rendered = _rendered(demo_copy)
    assert sorted(rendered) == ["bare-1", "coop-mastodon", "coop-peertube", "photoclub-pixelfed"]
    for text in rendered.values():
        keys = read_module(text)["users"]["users"]["root"]["openssh"]["authorizedKeys"]["keys"]  # type: ignore[index]
        assert keys[0] == DEMO_KEY


def test_missing_deploy_key_names_runtime_path_and_fix(demo_copy: Path, cli: RunCli) -> None:
    (demo_copy.parent / "demo_deploy_ed25519.pub").unlink()
    for command in (["render", "--out", str(demo_copy.parent / "out")], ["plan"]):
        result = cli("-s", str(demo_copy), *command)
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        message = result.err
        assert "runtimes.pve-a.ssh.key" in message or "runtimes.bare-1.ssh.key" in message
        assert str(demo_copy.parent / "demo_deploy_ed25519.pub") in message
        assert "does not exist" in message
        assert "ssh-keygen -y -f" in message
    assert not (demo_copy.parent / "out").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
        b"-----END OPENSSH PRIVATE KEY-----\n",
        b"",
        b"\xff\xfe not text",
        (DEMO_KEY + "\n" + DEMO_KEY + "\n").encode(),
        b"ssh-ed25519 AAAA\x1b]0;evil\x07 comment\n",
    ],
    ids=["private-key", "empty", "binary", "two-keys", "escape"],
)
def test_a_file_that_is_not_one_public_key_is_refused(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "deploy.pub").write_bytes(content)
    with pytest.raises(FediError) as caught:
        read_public_key("pve-a", "deploy", tmp_path / "fedi.toml")
    message = str(caught.value)
    assert "runtimes.pve-a.ssh.key" in message and "not one OpenSSH public key line" in message
    assert "b3BlbnNz" not in message and "\x1b" not in message  # the content is never shown


def test_unreadable_or_directory_deploy_key(tmp_path: Path) -> None:
    (tmp_path / "dir.pub").mkdir()
    with pytest.raises(FediError, match="is a directory"):
        read_public_key("box", "dir", tmp_path / "fedi.toml")
    (tmp_path / "locked.pub").write_text(DEMO_KEY)
    (tmp_path / "locked.pub").chmod(0)
    try:
        if not (tmp_path / "locked.pub").stat().st_mode & 0o444 and _root():
            pytest.skip("root reads files whatever their mode")
        with pytest.raises(FediError, match="cannot be read"):
            read_public_key("box", "locked", tmp_path / "fedi.toml")
    finally:
        (tmp_path / "locked.pub").chmod(0o600)


def _root() -> bool:
    import os

    return os.geteuid() == 0


def test_deploy_key_comment_with_hostile_text_is_one_nix_string(tmp_path: Path) -> None:
    key = DEMO_KEY.rsplit(" ", 1)[0] + ' x"; services.openssh.enable = false; "${y}\\'
    (tmp_path / "k.pub").write_text(key + "\n")
    assert read_public_key("box", "k", tmp_path / "fedi.toml") == key


# --- the NixOS system settings --------------------------------------------------------


def test_system_settings_are_rendered(demo_copy: Path) -> None:
    save_state(
        load_state(demo_copy),
        [
            Edit(("runtimes", "pve-a", "system"), {"state_version": "24.11"}),
            Edit(
                ("runtimes", "bare-1", "system"),
                {"base_modules": ["/etc/nixos/hardware.nix", "/etc/nixos/boot.nix"]},
            ),
        ],
    )
    rendered = {name: read_module(text) for name, text in _rendered(demo_copy).items()}
    vm, host = rendered["coop-mastodon"], rendered["bare-1"]
    assert vm["system"] == {"stateVersion": "24.11"}
    assert vm["imports"] == [
        Raw("<nixpkgs/nixos/modules/virtualisation/proxmox-image.nix>"),
        Raw("./fediversity"),
    ]
    assert vm["services"]["qemuGuest"] == {"enable": True}  # type: ignore[index]
    assert "networking" not in vm or "hostName" not in vm["networking"]  # type: ignore[operator]
    assert host["system"] == {"stateVersion": "25.05"}
    assert host["imports"] == [
        Raw("/etc/nixos/hardware.nix"),
        Raw("/etc/nixos/boot.nix"),
        Raw("./fediversity"),
    ]
    assert host["networking"]["hostName"] == "bare-1"  # type: ignore[index]
    assert "qemuGuest" not in host["services"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("system", "message"),
    [
        ('{ state_version = "25" }', "expected a NixOS release like '25.05'"),
        ("{ base_modules = [] }", "at least one module that makes the machine boot"),
        ('{ base_modules = ["hardware.nix"] }', "expected an absolute path on the machine"),
        ('{ base_modules = ["/etc/a b.nix"] }', "expected an absolute path on the machine"),
        ('{ base_modules = ["/etc/../x.nix"] }', "expected an absolute path on the machine"),
        ('{ base_modules = ["<nixpkgs/x\\"y>"] }', "expected an absolute path on the machine"),
        ('{ boot = "grub" }', "unknown key 'boot'"),
    ],
)
def test_bad_system_settings_are_located(
    system: str, message: str, demo_copy: Path, cli: RunCli
) -> None:
    text = demo_copy.read_text()
    text = text.replace('system = { state_version = "25.05" }', f"system = {system}", 1)
    demo_copy.write_text(text)
    line = 1 + text[: text.index(f"system = {system}")].count("\n")
    result = cli("-s", str(demo_copy), "validate")
    assert result.code == 1
    assert re.search(
        rf"{re.escape(str(demo_copy))}:{line}:\d+: runtimes\.pve-a\.system", result.err
    )
    assert message in result.err


# --- a non-root deploy user -----------------------------------------------------------


def test_non_root_deploy_user_gets_an_account_and_sudo(demo_copy: Path) -> None:
    save_state(load_state(demo_copy), [Edit(("runtimes", "bare-1", "ssh", "user"), "deploy")])
    config = read_module(_rendered(demo_copy)["bare-1"])
    user = config["users"]["users"]["deploy"]  # type: ignore[index]
    assert user["isNormalUser"] is True and user["extraGroups"] == ["wheel"]
    assert user["openssh"]["authorizedKeys"]["keys"] == [DEMO_KEY]
    assert config["security"]["sudo"]["extraRules"] == [  # type: ignore[index]
        {"users": ["deploy"], "commands": [{"command": "ALL", "options": ["NOPASSWD"]}]}
    ]
    assert "root" not in config["users"]["users"]  # type: ignore[operator]
    assert lockout_problems(_rendered(demo_copy)["bare-1"], Login("deploy", 22, DEMO_KEY)) == []


# --- the lock-out guard ---------------------------------------------------------------


def _demo_text(demo_copy: Path, machine: str = "coop-mastodon") -> str:
    return _rendered(demo_copy)[machine]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("    enable = true;\n    ports", "    enable = false;\n    ports"), "openssh.enable"),
        (("    ports = [\n      22\n    ];\n", ""), "services.openssh.ports does not hold port 22"),
        (
            ("  networking.firewall.allowedTCPPorts = [\n    22\n  ];\n", ""),
            "allowedTCPPorts does not open port 22",
        ),
        ((f'    "{DEMO_KEY}"\n', ""), "lacks fedi-tui's deploy key"),
        (('PermitRootLogin = "prohibit-password"', 'PermitRootLogin = "no"'), "PermitRootLogin"),
        (("{ ... }:\n{\n", "{ ... }:\nlet x = 1; in {\n"), "cannot be read back"),
    ],
    ids=["sshd-off", "port-gone", "firewall", "key-gone", "root-login-off", "not-data"],
)
def test_lockout_guard_reads_what_was_written(
    change: tuple[str, str], problem: str, demo_copy: Path
) -> None:
    text = _demo_text(demo_copy)
    assert lockout_problems(text, ROOT_LOGIN) == []
    old, new = change
    assert old in text
    broken = text.replace(old, new, 1)
    problems = lockout_problems(broken, ROOT_LOGIN)
    assert len(problems) == 1 and problem in problems[0], problems
    with pytest.raises(FediError, match=r"^machine coop-mastodon: .*would lock fedi-tui out"):
        check_reachable("coop-mastodon", broken, ROOT_LOGIN)


def test_lockout_guard_knows_the_port_and_the_user(demo_copy: Path) -> None:
    text = _demo_text(demo_copy)
    assert lockout_problems(text, Login("root", 2222, DEMO_KEY)) == [
        "services.openssh.ports does not hold port 2222",
        "networking.firewall.allowedTCPPorts does not open port 2222",
    ]
    problems = lockout_problems(text, Login("deploy", 22, DEMO_KEY))
    assert any("users.users.deploy.openssh" in p for p in problems)
    assert any("no passwordless sudo rule" in p for p in problems)


def test_render_and_plan_refuse_a_configuration_that_locks_out(
    demo_copy: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = render._reachable

    def without_firewall_port(*args: object) -> dict[str | tuple[str, ...], object]:
        body = original(*args)  # type: ignore[arg-type]
        del body[("networking", "firewall", "allowedTCPPorts")]
        return body

    monkeypatch.setattr(render, "_reachable", without_firewall_port)
    out = demo_copy.parent / "out"
    for command in (["render", "--out", str(out)], ["plan"]):
        result = cli("-s", str(demo_copy), *command)
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        assert re.search(r"machine \S+: its rendered configuration.nix would lock", result.err)
        assert "does not open port 22" in result.err
    assert not out.exists()


# --- reading back what expr writes ----------------------------------------------------

_names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=8)
_leaves = st.one_of(
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12),
    st.sampled_from(['"', "\\", "${x}", "$${", "''", "\n", "\u202e", "$", "\\${"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_names, _values, max_size=5))
def test_read_module_is_the_inverse_of_expr(data: dict[str, object]) -> None:
    assert read_module("# header\n{ ... }:\n" + expr(data) + "\n") == data
