"""A migration between two Proxmox providers: two fakepve clusters, VMs of the same name.

Provider "a" and "b" each have a fakepve cluster (its own process thread and
port) whose clones boot into a loopback deploy host (`Booter`, as in the apply
tests) with a PostgreSQL cluster, and a Garage stand-in over its own moto S3.
The operator's machine is `coop-mastodon` on both sides: the target's VM is
planned and recorded apart until --finish, which destroys the source's VM.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from fakepve import FakePve  # type: ignore[import-untyped]
from fakepve.pytest_plugin import _serve  # type: ignore[import-untyped]

from fedi_tui.core.workspace import Workspace
from fedi_tui.sandbox.pve import add_nixos_template
from tests.deploy.test_apply_cli import fedi
from tests.deploy.test_apply_proxmox import TOKEN, TOKEN_ENV, booter, fedi_vms
from tests.fixtures.deployhosts import DeployHost, HealthServer, running_deploy_host
from tests.fixtures.dnsmasq import running_dnsmasq
from tests.fixtures.garage import GarageStandIn
from tests.fixtures.postgres import PgCluster, fill_sample, running_postgres
from tests.migrate.conftest import ADMIN, equip
from tests.migrate.test_migrate_flow import OBJECTS, bucket_contents

pytestmark = [pytest.mark.real, pytest.mark.slow]


def _template(pve: FakePve) -> FakePve:
    pve.apitokens["root@pam!fedi"] = TOKEN
    add_nixos_template(pve)
    return pve


def _runtime(pve: FakePve, cafile: str, host: DeployHost, pg: PgCluster, n: int) -> dict[str, Any]:
    net = f"127.0.1{n}"
    return {
        "kind": "proxmox",
        "api": pve.url,
        "token_id": "root@pam!fedi",
        "token": {"env": TOKEN_ENV},
        "ca_file": cafile,
        "template": 9000,
        "nodes": {"pve1": {"cores": 32, "memory_gib": 128, "disk_gib": 2000}},
        "network": {
            "cidr": f"{net}.0/24",
            "gateway": f"{net}.1",
            "pool": f"{net}.10-{net}.20",
            "dns": ["127.0.0.53"],
        },
        "vmids": f"1{n}000-1{n}099",
        "ssh": {"user": host.ssh.user, "key": str(host.ssh.client_key)},
        "system": {"base_modules": [str(host.hardware_configuration)]},
        "deploy": host.deploy_settings(database_command=pg.database_command()),
    }


@pytest.fixture
def clusters(
    tmp_path_factory: pytest.TempPathFactory,
    _fakepve_pki: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FakePve, FakePve]]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    options = {"user": "root@pam", "password": "secret", "time_scale": 0}
    a, b = _serve(options, _fakepve_pki), _serve(options, _fakepve_pki)
    try:
        yield _template(a.pve), _template(b.pve)
    finally:
        a.stop()
        b.stop()


def test_migration_between_two_proxmox_providers(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    clusters: tuple[FakePve, FakePve],
    fakepve_cafile: str,
    health: HealthServer,
    garage: GarageStandIn,
    garage_b: GarageStandIn,
) -> None:
    pve_a, pve_b = clusters
    base = tmp_path_factory.mktemp("pve-hosts")
    keys = tmp_path_factory.mktemp("vmkey")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(keys / "k")],
        check=True,
    )
    with contextlib.ExitStack() as stack:
        hosts = []
        pgs = []
        for n in (1, 2):
            address = f"127.0.1{n}.10"
            host = stack.enter_context(
                running_deploy_host(
                    base / address, address=address, health=health, port=22, client_key=keys / "k"
                )
            )
            equip(host)
            hosts.append(host)
            pgs.append(stack.enter_context(running_postgres(address)))
        stack.callback(booter(pve_a, [hosts[0]]).close)
        stack.callback(booter(pve_b, [hosts[1]]).close)
        dns = stack.enter_context(running_dnsmasq(base / "dns", address="127.0.0.62"))
        doc: dict[str, Any] = {
            "schema": 1,
            "provider": {"name": "P", "domain": "p.test", "contact": "noc@p.test"},
            "runtimes": {
                "pve-a": _runtime(pve_a, fakepve_cafile, hosts[0], pgs[0], 1),
                "pve-b": _runtime(pve_b, fakepve_cafile, hosts[1], pgs[1], 2),
            },
            "storage": {"garage-a": garage.storage_entry(), "garage-b": garage_b.storage_entry()},
            "operators": {
                "coop": {
                    "name": "Coop",
                    "email": "admin@coop.test",
                    "domain": "coop.test",
                    "runtime": "pve-a",
                    "storage": "garage-a",
                    "apps": {"mastodon": {"enable": True, "size": "tiny", "admin": ADMIN}},
                }
            },
        }
        path = tmp_path / "fedi.toml"
        path.write_text(tomlkit.dumps(doc))
        done = fedi(path, "apply", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        pgs[0].create_database("mastodon")
        fill_sample(pgs[0], "mastodon", rows=80)
        state = tmp_path / ".fedi"
        key = Workspace.open(path).recorded.keys["coop-mastodon"].access_key_id
        source_s3 = garage.s3(key, (state / "secrets/keys/coop-mastodon").read_text())
        for name, body in OBJECTS.items():
            source_s3.put_object(Bucket="coop-mastodon", Key=name, Body=body)
        dns.point("mastodon.coop.test", "127.0.12.10")

        run = fedi(
            path, "migrate", "--operator", "coop", "--to-runtime", "pve-b",
            "--to-storage", "garage-b", "--resolver", dns.resolver, "--yes", timeout=240,
        )  # fmt: skip
        out = run.stdout + run.stderr
        assert run.returncode == 0, out
        assert "mastodon.coop.test  A  127.0.11.10 → 127.0.12.10" in out
        assert "create-vm coop-mastodon" in out
        (made,) = fedi_vms(pve_b)
        assert made.vmid == 12000 and made.status == "running"
        assert "coop-mastodon" in made.config["tags"]
        (source_vm,) = fedi_vms(pve_a)
        assert source_vm.status == "running"  # untouched until --finish
        assert pgs[1].table_checksums("mastodon") == pgs[0].table_checksums("mastodon")
        slot = state / "migrations/coop"
        recorded = Workspace.open(path).recorded
        assert recorded.machines["coop-mastodon"].runtime == "pve-a"  # the source's, as before
        slot_rec = json.loads((slot / "recorded.json").read_text())
        assert slot_rec["machines"]["coop-mastodon"]["runtime"] == "pve-b"
        target_s3 = garage_b.s3(
            slot_rec["keys"]["coop-mastodon"]["access_key_id"],
            (slot / "secrets/keys/coop-mastodon").read_text(),
        )
        assert bucket_contents(target_s3, "coop-mastodon") == OBJECTS

        run = fedi(path, "migrate", "--operator", "coop", "--finish", "--yes", timeout=240)
        assert run.returncode == 0, run.stdout + run.stderr
        assert fedi_vms(pve_a) == []  # the source VM is destroyed
        assert [v.vmid for v in fedi_vms(pve_b)] == [12000]
        workspace = Workspace.open(path)
        machine = workspace.recorded.machines["coop-mastodon"]
        assert (machine.runtime, machine.vmid, machine.address) == ("pve-b", 12000, "127.0.12.10")
        assert workspace.plan().plan.empty
