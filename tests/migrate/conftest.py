"""Two providers side by side for the migration tests.

Provider "a" (the source) and "b" (the target) each have a NixOS deploy host
(real sshd, fake nixos-rebuild, 127.0.0.20 and .21) and a Garage stand-in over
its own moto S3 process. Each host has a real PostgreSQL cluster on its address
(`tests.fixtures.postgres`, reached through `deploy.database_command`), the
`systemctl` stand-in that keeps unit states in `$FAKE_NIXOS_STATE/units/` (so a
test sees what was stopped and started) and stand-ins for the apps' host-change
commands. The target's nixos-rebuild stand-in evaluates every configuration it
switches to under the real NixOS module tree, and keeps each generation (so a
test sees what was activated: `activated`). A dnsmasq on 127.0.0.60 answers the
operator's names.
"""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from tests.deploy.conftest import health
from tests.fixtures.deployhosts import DeployHost, HealthServer, running_deploy_host
from tests.fixtures.dnsmasq import DnsServer, running_dnsmasq
from tests.fixtures.garage import GarageStandIn, garage, garage_b, garage_factory
from tests.fixtures.postgres import PgCluster, running_postgres, with_services
from tests.fixtures.s3 import moto_factory
from tests.fixtures.sshd import FAST_USER
from tests.nix.nixos_eval import NixosTree

__all__ = ["garage", "garage_b", "garage_factory", "health", "moto_factory"]

ADMIN = {"username": "admin", "email": "admin@coop.test"}
HOST_CHANGE = r"""#!/bin/sh
# the host-change commands of the apps (tootctl cache/search, artisan caches, update-host):
# recorded in $FAKE_NIXOS_STATE/host-change, everything else goes to the real stand-in
case "$(basename "$0") $1" in
  "mastodon-tootctl cache"|"mastodon-tootctl search"|"pixelfed-manage config:cache"|\
  "pixelfed-manage route:cache"|"peertube-update-host "*)
    echo "$(basename "$0") $*" >> "${FAKE_NIXOS_STATE:?}/host-change"; echo OK; exit 0 ;;
esac
exec "$0.stand-in" "$@"
"""


def equip(host: DeployHost) -> None:
    """Add the systemctl and host-change stand-ins to a deploy host's PATH."""
    with_services(host)
    bin_dir = host.root / "bin"
    (bin_dir / "mastodon-tootctl").rename(bin_dir / "mastodon-tootctl.stand-in")
    for name in ("mastodon-tootctl", "pixelfed-manage", "peertube-update-host"):
        (bin_dir / name).write_text(HOST_CHANGE)
        (bin_dir / name).chmod(0o755)
    entry = pwd.getpwnam(FAST_USER)
    for path in bin_dir.iterdir():
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def units(host: DeployHost) -> dict[str, str]:
    """Unit → active/inactive, as the systemctl stand-in keeps them ('*' shows as '%')."""
    directory = host.state / "units"
    if not directory.is_dir():
        return {}
    return {p.name: p.read_text().strip() for p in directory.iterdir()}


def activated(host: DeployHost) -> list[str]:
    """configuration.nix of every system generation the host switched to, oldest first."""
    generations = host.state / "generations"
    if not generations.is_dir():
        return []
    numbers = sorted(int(d.name) for d in generations.iterdir() if d.name.isdigit())
    return [(generations / str(n) / "configuration.nix").read_text() for n in numbers]


def held_apps(configuration: str) -> int:
    """How many apps a configuration.nix holds (`holdServices`: their units not started)."""
    return configuration.count("holdServices = true;")


def host_changes(host: DeployHost) -> list[str]:
    path = host.state / "host-change"
    return path.read_text().splitlines() if path.exists() else []


@dataclass
class Providers:
    a: DeployHost
    b: DeployHost
    garage_a: GarageStandIn
    garage_b: GarageStandIn
    dns: DnsServer
    path: Path
    pg_a: PgCluster
    pg_b: PgCluster

    @property
    def resolver(self) -> str:
        return self.dns.resolver


def write_two_providers(
    directory: Path,
    a: DeployHost,
    b: DeployHost,
    garage_a: GarageStandIn,
    garage_b: GarageStandIn,
    pg_a: PgCluster,
    pg_b: PgCluster,
    *,
    apps: tuple[str, ...] = ("mastodon",),
) -> Path:
    doc: dict[str, Any] = {
        "schema": 1,
        "provider": {
            "name": "Test Hosting",
            "domain": "hosting.test",
            "contact": "noc@hosting.test",
        },
        "runtimes": {
            "host-a": a.runtime(database_command=pg_a.database_command()),
            "host-b": b.runtime(database_command=pg_b.database_command()),
        },
        "storage": {
            "garage-a": garage_a.storage_entry()
            | {"public_url": "https://{bucket}.web-a.127-0-0-1.test"},
            "garage-b": garage_b.storage_entry()
            | {"public_url": "https://{bucket}.web-b.127-0-0-1.test"},
        },
        "operators": {
            "coop": {
                "name": "Coop",
                "email": "admin@coop.test",
                "domain": "coop.test",
                "runtime": "host-a",
                "storage": "garage-a",
                "apps": {
                    app: {
                        "enable": True,
                        "admin": {"username": "admin", "email": "admin@coop.test"},
                    }
                    for app in apps
                },
            }
        },
    }
    text = "# two providers, side by side\n" + tomlkit.dumps(doc)
    path = directory / "fedi.toml"
    path.write_text(text)
    return path


@pytest.fixture
def providers(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    health: HealthServer,
    garage: GarageStandIn,
    garage_b: GarageStandIn,
    nixos_tree: NixosTree,
) -> Iterator[Providers]:
    base = tmp_path_factory.mktemp("migrate-hosts")
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(
            running_deploy_host(base / "a", address="127.0.0.20", health=health)
        )
        b = stack.enter_context(
            running_deploy_host(
                base / "b", address="127.0.0.21", health=health, tree=nixos_tree.root
            )
        )
        equip(a)
        equip(b)
        pg_a = stack.enter_context(running_postgres(a.ssh.address))
        pg_b = stack.enter_context(running_postgres(b.ssh.address))
        dns = stack.enter_context(running_dnsmasq(base / "dns", address="127.0.0.60"))
        path = write_two_providers(tmp_path, a, b, garage, garage_b, pg_a, pg_b)
        yield Providers(a, b, garage, garage_b, dns, path, pg_a, pg_b)
        health.sick.clear()
