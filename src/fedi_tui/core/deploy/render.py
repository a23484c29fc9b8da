"""Render NixOS configurations: one directory per machine, with a manifest and content hash.

Pure: takes the validated state, the fediversity module files and each runtime's
deploy key (a public key, read by the caller), returns text. Secrets are never
inputs here; the configuration only names the files that hold them on the
machine (`fediversity.secretsDir`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.apps.base import nix_values
from fedi_tui.core.deploy.configuration import Configuration, Machine
from fedi_tui.core.deploy.deploykey import deploy_key_of
from fedi_tui.core.deploy.nixexpr import Raw, expr
from fedi_tui.core.deploy.reachable import Login, check_reachable
from fedi_tui.core.state.machinespec import DeploySpec
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec, RuntimeSpec

MODULE_DIR = "fediversity"
DEFAULT_SECRETS_DIR: str = DeploySpec.model_fields["secrets_dir"].default
"""Where the fediversity module reads secrets from unless the runtime says otherwise."""

NIXOS_HOST_BASE_MODULES = ("/etc/nixos/hardware-configuration.nix",)
"""What a NixOS host keeps of its own: its hardware configuration (file systems, boot loader)."""
PROXMOX_BASE_MODULES = ("<nixpkgs/nixos/modules/virtualisation/proxmox-image.nix>",)
"""What a VM cloned from the NixOS template needs: the profile the template is built with
(root file system by label, GRUB on /dev/vda, cloud-init, the QEMU guest agent)."""
PROXMOX_SSH_PORT = 22


@dataclass(frozen=True)
class RenderedMachine:
    name: str
    files: dict[str, str]
    """Relative path → content, including manifest.json."""
    hash: str
    """sha256 over every file but the manifest: what changed if it changed."""


def base_modules(runtime: RuntimeSpec) -> tuple[str, ...]:
    """The modules that keep the runtime's machines bootable (the runtime's own or the default)."""
    if runtime.system.base_modules is not None:
        return tuple(runtime.system.base_modules)
    if isinstance(runtime, ProxmoxRuntimeSpec):
        return PROXMOX_BASE_MODULES
    return NIXOS_HOST_BASE_MODULES


def login_of(runtime: RuntimeSpec, deploy_key: str) -> Login:
    """How fedi-tui logs in to the runtime's machines: user, port and its deploy key."""
    port = PROXMOX_SSH_PORT if isinstance(runtime, ProxmoxRuntimeSpec) else runtime.port
    return Login(runtime.ssh.user, port, deploy_key)


def _reachable(runtime: RuntimeSpec, login: Login) -> dict[str | tuple[str, ...], object]:
    """sshd on, the port open, the deploy key (and ssh.authorized_keys) for the deploy user;
    a user other than root gets an account in group wheel and sudo without a password,
    so it can run nixos-rebuild."""
    keys = list(dict.fromkeys([login.key, *runtime.ssh.authorized_keys]))
    sshd: dict[str | tuple[str, ...], object] = {"enable": True, "ports": [login.port]}
    if login.user == "root":
        sshd[("settings", "PermitRootLogin")] = "prohibit-password"
    body: dict[str | tuple[str, ...], object] = {
        ("services", "openssh"): sshd,
        ("networking", "firewall", "allowedTCPPorts"): [login.port],
    }
    if login.user == "root":
        body[("users", "users", "root", "openssh", "authorizedKeys", "keys")] = keys
    else:
        body[("users", "users", login.user)] = {
            "isNormalUser": True,
            "extraGroups": ["wheel"],
            ("openssh", "authorizedKeys", "keys"): keys,
        }
        body[("security", "sudo")] = {
            "enable": True,
            "extraRules": [
                {
                    "users": [login.user],
                    "commands": [{"command": "ALL", "options": ["NOPASSWD"]}],
                }
            ],
        }
    return body


def configuration(spec: StateSpec, machine: Machine, deploy_key: str, *, held: bool = False) -> str:
    """configuration.nix for one machine: its whole NixOS system.

    It imports what keeps the machine bootable (`base_modules`), keeps it reachable
    for fedi-tui (`_reachable`, with `deploy_key`, the public half of `ssh.key`) and
    adds the machine's applications (the fediversity modules). `held`: the apps'
    units are installed but not started (`fediversity.<app>.holdServices`), for a
    migration target whose data is not in yet.
    """
    runtime = spec.runtimes[machine.runtime]
    proxmox = isinstance(runtime, ProxmoxRuntimeSpec)
    fediversity: dict[str, object] = {"acme.email": spec.provider.contact}
    if runtime.deploy.secrets_dir != DEFAULT_SECRETS_DIR:
        fediversity["secretsDir"] = runtime.deploy.secrets_dir
    if machine.apps:  # a machine without apps (undeploy) runs its base system only
        storage = spec.storage[machine.storage]
        fediversity["s3"] = {"endpoint": storage.s3_endpoint, "region": storage.region}
    for app in machine.apps:
        values = nix_values(app.options)
        values["domain"] = app.requirements.domain
        values["siteTitle"] = app.options.site_title or spec.operators[app.operator].name
        bucket = app.requirements.buckets[0]
        values["s3"] = {
            "bucket": bucket,
            "publicUrl": spec.storage[machine.storage].media_url(bucket),
        }
        if held:
            values["holdServices"] = True
        fediversity[app.module.name] = values
    body: dict[str | tuple[str, ...], object] = {
        "imports": [*(Raw(m) for m in base_modules(runtime)), Raw(f"./{MODULE_DIR}")],
    }
    if not proxmox:  # on a VM, cloud-init sets the host name (the VM's name) and wins
        body[("networking", "hostName")] = machine.name
    body[("system", "stateVersion")] = runtime.system.state_version
    body |= _reachable(runtime, login_of(runtime, deploy_key))
    if proxmox:
        body[("services", "qemuGuest", "enable")] = True
    body["fediversity"] = {
        tuple(k.split(".")) if "." in k else k: v for k, v in fediversity.items()
    }
    kind = "Proxmox VM" if proxmox else "NixOS host"
    header = (
        f"# Generated by fedi-tui for machine {json.dumps(machine.name)} "
        f"({kind} on runtime {json.dumps(machine.runtime)}).\n"
        "# Do not edit: fedi-tui rewrites this file; change fedi.toml instead.\n"
        "# The machine's whole system: what makes it boot (imports), sshd with\n"
        "# fedi-tui's deploy key, and its applications.\n"
    )
    return header + "{ ... }:\n" + expr(body) + "\n"


def module_files(modules_dir: Path) -> dict[str, str]:
    """The fediversity NixOS module files, by path relative to the machine directory."""
    return {
        f"{MODULE_DIR}/{p.relative_to(modules_dir).as_posix()}": p.read_text(encoding="utf-8")
        for p in sorted(modules_dir.rglob("*.nix"))
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def render_machine(
    spec: StateSpec,
    machine: Machine,
    modules: Mapping[str, str],
    module_hashes: Mapping[str, str] | None = None,
    *,
    deploy_key: str,
    held: bool = False,
) -> RenderedMachine:
    """One machine's files; `module_hashes` (path → sha256 of `modules`) saves rehashing.

    Refuses (FediError naming the machine) a configuration that would not let
    fedi-tui log in again with `deploy_key`: the check reads the written text back.
    """
    config = configuration(spec, machine, deploy_key, held=held)
    runtime = spec.runtimes[machine.runtime]
    check_reachable(machine.name, config, login_of(runtime, deploy_key))
    known = module_hashes if module_hashes is not None else {}
    files = {"configuration.nix": config, **modules}
    hashes = {
        path: _sha256(text) if path not in known else known[path]
        for path, text in sorted(files.items())
    }
    total = hashlib.sha256("".join(f"{p}\0{h}\n" for p, h in hashes.items()).encode()).hexdigest()
    manifest = {
        "machine": machine.name,
        "operators": list(machine.operators),
        "runtime": machine.runtime,
        "apps": [a.module.name for a in machine.apps],
        "files": hashes,
        "hash": total,
    }
    files["manifest.json"] = json.dumps(manifest, indent=2) + "\n"
    return RenderedMachine(machine.name, files, total)


def render_all(
    spec: StateSpec,
    config: Configuration,
    modules: Mapping[str, str],
    deploy_keys: Mapping[str, str],
    *,
    held: bool = False,
) -> dict[str, RenderedMachine]:
    """Every machine of a configuration, by name; `deploy_keys` by runtime name
    (`core.deploy.deploykey.read_deploy_keys`); `held`: see `configuration`."""
    hashes = {path: _sha256(text) for path, text in modules.items()}
    return {
        m.name: render_machine(
            spec, m, modules, hashes, deploy_key=deploy_key_of(deploy_keys, m.runtime), held=held
        )
        for m in config.machines
    }
