"""Fixtures for backup, restore and the data primitives: deploy hosts with PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from fedi_tui.adapters.machines import SshConnector, SshShell
from fedi_tui.core.deploy.ports import MachineEndpoint
from tests.deploy.conftest import HostFactory, deploy_hosts, health
from tests.fixtures.deployhosts import DeployHost
from tests.fixtures.garage import garage, garage_b, garage_factory
from tests.fixtures.postgres import PgCluster, running_postgres, with_services
from tests.fixtures.s3 import moto_factory

__all__ = ["deploy_hosts", "garage", "garage_b", "garage_factory", "health", "moto_factory"]


@dataclass
class DataHost:
    """A deploy host with a PostgreSQL cluster on its address and a systemctl stand-in."""

    host: DeployHost
    pg: PgCluster

    def endpoint(self) -> MachineEndpoint:
        ssh = self.host.ssh
        return MachineEndpoint(
            name=ssh.address,
            host=ssh.address,
            port=ssh.port,
            user=ssh.user,
            key_path=str(ssh.client_key),
            host_key=ssh.host_public_key,
            known_hosts=str(ssh.known_hosts),
        )

    async def shell(self) -> SshShell:
        return await SshConnector().connect(self.endpoint())


DataHostFactory = Callable[[], DataHost]


@pytest.fixture
def data_hosts(deploy_hosts: HostFactory) -> Iterator[DataHostFactory]:
    """`data_hosts()` starts a deploy host with its own PostgreSQL; all stop after the test."""
    with contextlib.ExitStack() as stack:

        def start() -> DataHost:
            host = deploy_hosts()
            with_services(host)
            pg = stack.enter_context(running_postgres(host.ssh.address))
            return DataHost(host, pg)

        yield start
