"""What data each app instance of an operator has, and where: database, buckets, secrets, units.

Everything comes from the one Workspace: the app module's `DataNeed` (database name,
units), the resource mapping (its machine, its buckets and their keys), the
recorded state (the keys' ids), the runtime's `deploy` table (how to run the
PostgreSQL commands and systemctl there) and the rendered configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from fedi_tui.core.deploy.configuration import AppInstance, Bucket, Machine
from fedi_tui.core.deploy.endpoints import endpoint_of
from fedi_tui.core.deploy.ports import MachineEndpoint
from fedi_tui.core.deploy.runner import known_hosts_file
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Desired
from fedi_tui.core.deploy.steps.health import health_command
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.machinespec import DeploySpec
from fedi_tui.core.workspace import Workspace


@dataclass(frozen=True)
class BucketAccess:
    """A bucket of an instance and the app's own key for it."""

    bucket: Bucket
    access_key_id: str
    secret: SecretStr


@dataclass(frozen=True)
class InstanceData:
    """One app instance's data and how to reach it."""

    instance: AppInstance
    machine: Machine
    deploy: DeploySpec
    buckets: tuple[Bucket, ...]

    @property
    def key(self) -> str:
        return self.instance.key

    @property
    def database(self) -> str | None:
        return self.instance.requirements.data.database

    @property
    def stop_units(self) -> tuple[str, ...]:
        return self.instance.requirements.data.stop_units

    @property
    def start_units(self) -> tuple[str, ...]:
        return self.instance.requirements.data.units_to_start

    def health_argv(self) -> list[str]:
        return health_command(self.deploy, self.instance)

    def units_argv(self, verb: str, units: Sequence[str]) -> list[str]:
        return [*self.deploy.services_command, verb, *units]


def operator_instances(ws: Workspace, operator: str) -> list[InstanceData]:
    """Every deployed app instance of the operator (FediError when there is none)."""
    ws.check_operator(operator)
    config = ws.config.only_operator(operator)
    out: list[InstanceData] = []
    for machine in config.machines:
        deploy = ws.spec.runtimes[machine.runtime].deploy
        for app in machine.apps:
            if app.operator != operator:
                continue
            buckets = tuple(b for b in config.buckets if b.instance == app.key)
            out.append(InstanceData(app, machine, deploy, buckets))
    if not out:
        raise FediError(
            f"operator {operator} has no enabled applications: there is nothing to back up "
            "or restore"
        )
    return sorted(out, key=lambda d: d.key)


def bucket_access(ws: Workspace, secrets: SecretStore, bucket: Bucket) -> BucketAccess:
    """The app's key for its bucket, from the recorded state and the secret store."""
    key = ws.recorded.keys.get(bucket.key_name)
    secret = secrets.key_secret(bucket.key_name)
    if key is None or key.access_key_id is None or secret is None:
        raise FediError(
            f"bucket {bucket.name}: its access key {bucket.key_name} is not recorded with a "
            "secret in the state directory; run `fedi-tui apply` first"
        )
    return BucketAccess(bucket, key.access_key_id, secret)


def machine_endpoint(ws: Workspace, machine: str) -> MachineEndpoint:
    """How to log in to one of the configuration's machines (as apply does)."""
    desired = Desired(ws.config, ws.rendered, ws.spec, ws.modules)
    return endpoint_of(
        desired,
        ws.recorded,
        machine,
        state_file=ws.path,
        known_hosts=known_hosts_file(ws.state_dir),
    )


def default_backup_dir(ws: Workspace, operator: str, stamp: str) -> Path:
    return ws.state_dir / "backups" / f"{operator}-{stamp}"
