"""The states the NixOS evaluation tests render, and their evaluation (made once a session).

The demo and a generated state (all three apps on both runtime kinds, a non-root deploy
user on another port, hostile operator strings), and the generated state once more with
its apps held, each machine evaluated under the real module tree
(`tests/nix/eval-machine.nix`) in one nix-instantiate call.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.workspace import Workspace
from tests.nix.nixos_eval import NixosTree, evaluate
from tests.paths import DEMO, DEMO_DEPLOY_KEY

DEPLOY_KEY = DEMO_DEPLOY_KEY.read_text().strip()
HOSTILE = "Q\"uote ${x} $${y} back\\slash\nnew line \u202eevil\u202c '' end"
"""Operator text that must arrive as exactly this value, never as Nix code."""

OPS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB090aQKWbebDKqfGSVLSKpPbvpc/aTNIiEopglL7Hcf ops"
GENERATED = f"""\
schema = 1

[provider]
name = "Gen Hosting"
domain = "gen.test"
contact = "noc@gen.test"

[runtimes.pve]
kind = "proxmox"
api = "https://127.0.0.1:8006"
token_id = "root@pam!fedi"
token = {{ env = "PVE_TOKEN" }}
template = 9000
placement = "vm-per-operator"
nodes = {{ pve1 = {{ cores = 32, memory_gib = 128, disk_gib = 2000 }} }}
network = {{ cidr = "127.0.30.0/24", gateway = "127.0.30.1", pool = "127.0.30.10-127.0.30.90" }}
ssh = {{ key = "deploy" }}

[runtimes.host]
kind = "nixos"
host = "127.0.0.9"
port = 2222
ssh = {{ user = "deploy", key = "deploy", authorized_keys = ["{OPS_KEY}"] }}
system = {{ state_version = "24.11" }}

[storage.s3]
kind = "garage"
s3_endpoint = "https://127.0.0.1:3900"
admin_endpoint = "https://127.0.0.1:3903"
admin_token = {{ env = "GARAGE_TOKEN" }}
region = "gen-region"
public_url = "https://{{bucket}}.web.127-0-0-1.test"
"""


def _operator(op: str, runtime: str, name: str) -> str:
    out = f"""
[operators.{op}]
name = {_toml(name)}
email = "admin@{op}.test"
domain = "{op}.test"
runtime = "{runtime}"
storage = "s3"
"""
    for app in ("mastodon", "peertube", "pixelfed"):
        out += f"""
[operators.{op}.apps.{app}]
enable = true
admin = {{ username = "admin", email = "admin@{op}.test" }}
site_description = {_toml(HOSTILE)}
"""
    return out


def _toml(text: str) -> str:
    import json

    return json.dumps(text)  # a JSON string is a TOML basic string


def _write_generated(directory: Path) -> Path:
    directory.mkdir()
    state = directory / "fedi.toml"
    state.write_text(
        GENERATED + _operator("vmop", "pve", HOSTILE) + _operator("hostop", "host", "Host Op")
    )
    shutil.copyfile(DEMO_DEPLOY_KEY, directory / "deploy.pub")
    return state


def _render(
    state: Path, out: Path, *, held: bool = False
) -> tuple[StateSpec, dict[str, Path], Workspace]:
    ws = Workspace.open(state).with_held(held)
    paths = {}
    for name, machine in ws.rendered.items():
        for rel, text in machine.files.items():
            target = out / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        paths[name] = out / name / "configuration.nix"
    return ws.spec, paths, ws


class Rendered:
    """The rendered machines of both states and their evaluation, made once per module."""

    def __init__(self, tmp: Path, tree: NixosTree) -> None:
        demo = tmp / "demo"
        demo.mkdir()
        shutil.copyfile(DEMO, demo / "fedi.toml")
        shutil.copyfile(DEMO_DEPLOY_KEY, demo / DEMO_DEPLOY_KEY.name)
        self.workspaces: dict[str, Workspace] = {}
        self.paths: dict[str, Path] = {}
        for label, state in (("demo", demo / "fedi.toml"), ("gen", _write_generated(tmp / "gen"))):
            _, paths, ws = _render(state, tmp / f"{label}-out")
            for name, path in paths.items():
                self.paths[f"{label}/{name}"] = path
                self.workspaces[f"{label}/{name}"] = ws
        # the generated state once more with the apps held (a migration target, phases 1-6)
        _, paths, ws = _render(tmp / "gen" / "fedi.toml", tmp / "held-out", held=True)
        for name, path in paths.items():
            self.paths[f"held/{name}"] = path
            self.workspaces[f"held/{name}"] = ws
        self.results = evaluate(tree, self.paths)  # one nix-instantiate call for all
