"""Fixtures for the apply engine's tests: deploy hosts (real sshd), a health server, states."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from pydantic import SecretStr

from fedi_tui.core.deploy.recorded import BucketRecord, KeyRecord, RecordedState, save_recorded
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.workspace import Workspace
from tests.fixtures.deployhosts import DeployHost, HealthServer, running_deploy_host
from tests.fixtures.garage import GarageStandIn, garage, garage_b, garage_factory
from tests.fixtures.s3 import moto_factory

HostFactory = Callable[..., DeployHost]
__all__ = ["garage", "garage_b", "garage_factory", "moto_factory"]


@pytest.fixture(scope="module")
def health() -> Iterator[HealthServer]:
    server = HealthServer()
    yield server
    server.close()


@pytest.fixture
def deploy_hosts(
    tmp_path_factory: pytest.TempPathFactory, health: HealthServer
) -> Iterator[HostFactory]:
    """`deploy_hosts(n)` starts hosts on 127.0.0.10, .11, …; they stop after the test."""
    base = tmp_path_factory.mktemp("hosts")
    with contextlib.ExitStack() as stack:
        started: list[DeployHost] = []

        def start(**kwargs: Any) -> DeployHost:
            """Keyword `tree` (a NixosTree's root) makes the host evaluate what it is given."""
            address = kwargs.pop("address", None) or f"127.0.0.{10 + len(started)}"
            host = stack.enter_context(
                running_deploy_host(base / address, address=address, health=health, **kwargs)
            )
            started.append(host)
            return host

        yield start
        health.sick.clear()


def key_id(name: str) -> str:
    """A Garage-like access key id for a key name (not secret)."""
    return "GK" + name.encode().hex()[:24].ljust(24, "0")


def write_state(
    directory: Path,
    hosts: list[DeployHost],
    *,
    apps: tuple[str, ...] = ("mastodon",),
    deploy: dict[str, Any] | None = None,
    garage: GarageStandIn | None = None,
) -> Path:
    """fedi.toml with one operator per host (apps on it).

    Without `garage`, buckets and keys are already recorded (key secrets in the
    state dir): those tests are about machines. With it, the storage is that
    Garage stand-in and apply creates them.
    """
    doc: dict[str, Any] = {
        "schema": 1,
        "provider": {
            "name": "Test Hosting",
            "domain": "hosting.test",
            "contact": "noc@hosting.test",
        },
        "runtimes": {},
        "storage": {
            "garage": {
                "kind": "garage",
                "s3_endpoint": "https://127.0.0.1:3900",
                "admin_endpoint": "https://127.0.0.1:3903",
                "admin_token": {"env": "GARAGE_ADMIN_TOKEN"},
            }
        },
        "operators": {},
    }
    for n, host in enumerate(hosts, 1):
        doc["runtimes"][f"host{n}"] = host.runtime(**(deploy or {}))
        doc["operators"][f"op{n}"] = {
            "name": f"Operator {n}",
            "email": f"admin@op{n}.test",
            "domain": f"op{n}.test",
            "runtime": f"host{n}",
            "storage": "garage",
            "apps": {
                app: {"enable": True, "admin": {"username": "admin", "email": f"admin@op{n}.test"}}
                for app in apps
            },
        }
    if garage is not None:
        doc["storage"]["garage"] = garage.storage_entry() | {
            "public_url": "https://{bucket}.web.127-0-0-1.test"  # rendered only, never reached
        }
    path = directory / "fedi.toml"
    path.write_text(tomlkit.dumps(doc))
    if garage is not None:
        return path
    state_dir = directory / ".fedi"
    secrets = SecretStore(state_dir)
    buckets: dict[str, BucketRecord] = {}
    keys: dict[str, KeyRecord] = {}
    for b in Workspace.open(path).config.buckets:
        buckets[b.name] = BucketRecord(
            storage=b.storage,
            operator=b.operator,
            bucket_id=f"id-{b.name}",
            quota_gib=b.quota_gib,
            public=b.public,
            created=True,
        )
        keys[b.key_name] = KeyRecord(
            storage=b.storage, operator=b.operator, bucket=b.name, access_key_id=key_id(b.key_name)
        )
        secrets.put_key_secret(b.key_name, SecretStr(f"s3secret-{b.key_name}-0123456789abcdef"))
    save_recorded(state_dir, RecordedState(buckets=buckets, keys=keys))
    return path


def set_value(path: Path, key: str, value: Any) -> None:
    """Change one value of the state file the way `fedi-tui set` does."""
    from fedi_tui.core.state.file import update_state
    from fedi_tui.core.state.tomledit import Edit, parse_dotted_key

    update_state(path, lambda _loaded: [Edit(parse_dotted_key(key), value)])
