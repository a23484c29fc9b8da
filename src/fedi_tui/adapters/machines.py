"""The engine's MachineConnector over SSH: each `connect` is a new, strictly verified login."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncssh

from fedi_tui.adapters import sshstream
from fedi_tui.adapters.sftpfiles import MARKER, PushResult, check_absolute
from fedi_tui.adapters.ssh import LineCallback, SshMachine
from fedi_tui.adapters.sshlogin import login
from fedi_tui.adapters.tcpconnect import one_line
from fedi_tui.core.deploy.ports import LineSink, MachineEndpoint
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import ByteSink, ByteSource


class SshShell:
    """A logged-in machine (the MachineShell port)."""

    def __init__(self, machine: SshMachine) -> None:
        self._machine = machine
        self.target = machine.target

    async def run(
        self, argv: Sequence[str], *, on_line: LineSink | None = None, check: bool = True
    ) -> int:
        callback: LineCallback | None = on_line
        return await self._machine.run(argv, on_line=callback, check=check)

    async def stream_out(
        self, argv: Sequence[str], sink: ByteSink, *, on_line: LineSink | None = None
    ) -> int:
        return await sshstream.stream_out(
            self._machine.connection, self.target, argv, sink, on_line
        )

    async def stream_in(
        self, argv: Sequence[str], source: ByteSource, *, on_line: LineSink | None = None
    ) -> int:
        return await sshstream.stream_in(
            self._machine.connection, self.target, argv, source, on_line
        )

    async def put_file(self, path: str, data: bytes, *, mode: int = 0o600) -> None:
        await self._machine.put_file(path, data, mode=mode)

    async def push_tree(
        self, files: Mapping[str, str], remote_dir: str, *, mode: int = 0o600
    ) -> PushResult:
        return await self._machine.push_tree(files, remote_dir, mode=mode)

    async def remove_tree(self, remote_dir: str) -> bool:
        check_absolute(remote_dir)
        sftp = await self._machine.sftp()
        try:
            if not await sftp.isdir(remote_dir):
                return False
            if not await sftp.exists(posixpath.join(remote_dir, MARKER)):
                raise FediError(
                    f"{self.target}: {remote_dir} holds no {MARKER}, so fedi-tui did not make it "
                    "and does not remove it"
                )
            await sftp.rmtree(remote_dir)
        except asyncssh.SFTPError as exc:
            raise FediError(
                f"{self.target}: cannot remove {remote_dir}: {one_line(exc.reason)}"
            ) from None
        return True

    async def close(self) -> None:
        await self._machine.close()


class SshConnector:
    """Opens SSH connections for the engine (the MachineConnector port)."""

    async def connect(self, endpoint: MachineEndpoint) -> SshShell:
        conn = await login(
            endpoint.host,
            endpoint.port,
            endpoint.user,
            Path(endpoint.key_path),
            host_key=endpoint.host_key,
            known_hosts=Path(endpoint.known_hosts),
            timeout=endpoint.connect_timeout,
        )
        return SshShell(SshMachine(conn, endpoint.user, endpoint.host, endpoint.port))
