"""The sandbox's state files: what its supervisors serve, as a ready-to-use fedi.toml.

Provider a has a Proxmox runtime (``pve``: fakepve, VMs on 127.0.31.x), a NixOS
host (``host``), a Garage (``garage``) and two operators: a cooperative with
Mastodon on a VM and a photo club with Pixelfed on the host. Provider b has the
same kind of infrastructure and no operators: the place to try migration to.
Secrets are references to files in the sandbox directory (mode 0600); the
NixOS host's key is pinned in the file, the VMs' keys are pinned from the
guest agent into the state directory's known_hosts; TLS is pinned by CA file.
"""

from __future__ import annotations

from typing import Any

import tomlkit

from fedi_tui.sandbox.layout import ProviderDir

HEADER = """\
fedi.toml of a SANDBOX provider made by `fedi-tui sandbox up`: every server
here is a stand-in on this machine's loopback addresses (fakepve, OpenSSH
machines, a moto S3 server with a Garage admin stand-in). Nothing is real and
nothing leaves the machine. `fedi-tui sandbox down` stops it and removes it."""


def operators(name: str) -> dict[str, Any]:
    if name != "a":
        return {}
    return {
        "coop": {
            "name": "Sandbox Cooperative",
            "email": "board@coop.sandbox.test",
            "domain": "coop.sandbox.test",
            "runtime": "pve",
            "storage": "garage",
            "apps": {
                "mastodon": {
                    "enable": True,
                    "size": "tiny",
                    "admin": {"username": "alice", "email": "alice@coop.sandbox.test"},
                }
            },
        },
        "club": {
            "name": "Sandbox Photo Club",
            "email": "hello@club.sandbox.test",
            "domain": "club.sandbox.test",
            "runtime": "host",
            "storage": "garage",
            "apps": {
                "pixelfed": {
                    "enable": True,
                    "admin": {"username": "bob", "email": "bob@club.sandbox.test"},
                }
            },
        },
    }


def state_data(where: ProviderDir, ready: dict[str, Any]) -> dict[str, Any]:
    """The state file's content for one provider, from its supervisor's ready.json."""
    pve, garage, nixos, vms = ready["pve"], ready["garage"], ready["nixos"], ready["vms"]
    key = str(where.ssh_key)
    upper = where.name.upper()
    return {
        "schema": 1,
        "provider": {
            "name": f"Sandbox Hosting {upper}",
            "domain": f"{where.name}.sandbox.test",
            "contact": f"noc@{where.name}.sandbox.test",
            "sandbox": True,
        },
        "runtimes": {
            "pve": {
                "kind": "proxmox",
                "api": pve["url"],
                "token_id": pve["token_id"],
                "token": {"file": str(where.pve_token)},
                "ca_file": pve["ca_file"],
                "template": pve["template"],
                "nodes": {n: {"cores": 8, "memory_gib": 32, "disk_gib": 500} for n in pve["nodes"]},
                "network": {
                    "cidr": vms["network"],
                    "gateway": vms["gateway"],
                    "pool": vms["pool"],
                    "dns": ["127.0.0.53"],
                },
                "vmids": f"{where.index}0000-{where.index}0099",
                "ssh": {"user": vms["user"], "key": key},
                "system": {"base_modules": [vms["base_module"]]},
                "deploy": vms["deploy"],
            },
            "host": {
                "kind": "nixos",
                "host": nixos["address"],
                "port": nixos["port"],
                "host_key": nixos["host_key"],
                "ssh": {"user": nixos["user"], "key": key},
                "system": {"base_modules": [nixos["base_module"]]},
                "deploy": nixos["deploy"],
            },
        },
        "storage": {
            "garage": {
                "kind": "garage",
                "s3_endpoint": garage["s3_endpoint"],
                "admin_endpoint": garage["admin_endpoint"],
                "admin_token": {"file": str(where.garage_token)},
                "region": garage["region"],
                "ca_file": garage["ca_file"],
                "public_url": f"https://{{bucket}}.web.{where.name}.sandbox.test",
            }
        },
        "operators": operators(where.name),
    }


def render(where: ProviderDir, ready: dict[str, Any]) -> str:
    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    for key, value in state_data(where, ready).items():
        doc[key] = value
    return tomlkit.dumps(doc)
