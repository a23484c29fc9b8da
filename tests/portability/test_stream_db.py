"""Binary streams over real SSH, and PostgreSQL dumps moved through them (real clusters)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from fedi_tui.core.deploy.events import Event, TransferProgress, event_from_json
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.database import Database, dump_to_file, restore_from_file, transfer
from fedi_tui.core.portability.progress import Meter
from tests.fixtures.postgres import fill_sample
from tests.portability.conftest import DataHostFactory

pytestmark = pytest.mark.real


def test_stdout_bytes_arrive_unchanged_and_stdin_is_fed(data_hosts: DataHostFactory) -> None:
    node = data_hosts()
    blob = bytes(range(256)) * 4096 + b"\x00\r\n\x1b[31m"  # every byte value, 1 MiB+

    async def go() -> tuple[bytes, list[str], int]:
        shell = await node.shell()
        try:
            got = bytearray()

            async def sink(chunk: bytes) -> None:
                got.extend(chunk)

            lines: list[str] = []
            path = node.host.root / "blob"
            path.write_bytes(blob)
            size = await shell.stream_out(["cat", str(path)], sink)
            assert size == len(got)

            async def source():  # type: ignore[no-untyped-def]
                for i in range(0, len(blob), 100_000):
                    yield blob[i : i + 100_000]

            sent = await shell.stream_in(
                ["sha256sum"], source(), on_line=lambda s, t: lines.append(f"{s}:{t}")
            )
            return bytes(got), lines, sent
        finally:
            await shell.close()

    got, lines, sent = asyncio.run(go())
    assert got == blob
    assert sent == len(blob)
    assert [x for x in lines if x.startswith("stdout:")] == [
        f"stdout:{hashlib.sha256(blob).hexdigest()}  -"
    ]


def test_a_failing_command_names_the_machine_and_its_stderr(data_hosts: DataHostFactory) -> None:
    node = data_hosts()

    async def go() -> None:
        shell = await node.shell()
        try:

            async def sink(chunk: bytes) -> None:
                pass

            await shell.stream_out(["sh", "-c", "echo 'no such \x1b[1mthing' >&2; exit 3"], sink)
        finally:
            await shell.close()

    with pytest.raises(FediError) as err:
        asyncio.run(go())
    text = str(err.value)
    assert node.host.ssh.address in text and "exited with status 3" in text
    assert "no such \\x1b[1mthing" in text  # control characters made visible


def test_cancelling_stops_the_remote_command(data_hosts: DataHostFactory) -> None:
    node = data_hosts()
    pid_file = node.host.root / "pid"

    async def go() -> None:
        shell = await node.shell()
        try:
            first = asyncio.Event()

            async def sink(chunk: bytes) -> None:
                first.set()

            script = f"echo $$ > {pid_file}; exec yes"
            task = asyncio.create_task(shell.stream_out(["sh", "-c", script], sink))
            await first.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pid = pid_file.read_text().strip()
            status = await shell.run(["kill", "-0", pid], check=False)
            assert status != 0, "the remote command outlived the cancel"
        finally:
            await shell.close()

    asyncio.run(go())


@pytest.mark.slow
def test_dump_to_a_file_then_restore_elsewhere_gives_equal_tables(
    tmp_path: Path, data_hosts: DataHostFactory
) -> None:
    a, b = data_hosts(), data_hosts()
    a.pg.create_database("mastodon", owner="mastodon")
    fill_sample(a.pg, "mastodon", owner="mastodon")
    b.pg.psql("postgres", 'CREATE ROLE "mastodon" LOGIN')
    events: list[Event] = []

    async def go() -> None:
        sa, sb = await a.shell(), await b.shell()
        try:
            meter = Meter(events.append, deployment="d1", step="dump", part="database", what="x")
            moved = await dump_to_file(
                Database(sa, "mastodon", a.pg.database_command()), tmp_path / "db.dump", meter
            )
            meter.finish()
            assert moved.size == (tmp_path / "db.dump").stat().st_size
            assert moved.sha256 == hashlib.sha256((tmp_path / "db.dump").read_bytes()).hexdigest()
            assert (tmp_path / "db.dump").stat().st_mode & 0o077 == 0
            await restore_from_file(
                Database(sb, "mastodon", b.pg.database_command()),
                tmp_path / "db.dump",
                expect_sha256=moved.sha256,
            )
        finally:
            await sa.close()
            await sb.close()

    asyncio.run(go())
    assert b.pg.table_checksums("mastodon") == a.pg.table_checksums("mastodon")
    assert len(a.pg.table_checksums("mastodon")) == 2
    final = [e for e in events if isinstance(e, TransferProgress) and e.final]
    assert final and final[-1].bytes == (tmp_path / "db.dump").stat().st_size
    assert event_from_json(final[-1].to_json()) == final[-1]  # it goes to the JSONL log


@pytest.mark.slow
def test_transfer_streams_machine_to_machine_and_replaces_the_target(
    data_hosts: DataHostFactory,
) -> None:
    a, b = data_hosts(), data_hosts()
    a.pg.create_database("pixelfed", owner="pixelfed")
    fill_sample(a.pg, "pixelfed", rows=2000, owner="pixelfed")
    b.pg.create_database("pixelfed", owner="pixelfed")  # the target's empty database
    b.pg.psql("pixelfed", "CREATE TABLE stale (x int); INSERT INTO stale VALUES (1)")
    before = a.pg.table_checksums("pixelfed")

    async def go() -> int:
        sa, sb = await a.shell(), await b.shell()
        try:
            moved = await transfer(
                Database(sa, "pixelfed", a.pg.database_command()),
                Database(sb, "pixelfed", b.pg.database_command()),
            )
            return moved.size
        finally:
            await sa.close()
            await sb.close()

    assert asyncio.run(go()) > 0
    assert b.pg.table_checksums("pixelfed") == before
    assert a.pg.table_checksums("pixelfed") == before  # the source is only read


def test_a_failed_dump_leaves_no_file_and_says_why(
    tmp_path: Path, data_hosts: DataHostFactory
) -> None:
    a = data_hosts()

    async def go() -> None:
        sa = await a.shell()
        try:
            await dump_to_file(
                Database(sa, "nothere", a.pg.database_command()), tmp_path / "db.dump"
            )
        finally:
            await sa.close()

    with pytest.raises(FediError) as err:
        asyncio.run(go())
    assert 'database "nothere" does not exist' in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_source_stops_the_remote_reader(data_hosts: DataHostFactory) -> None:
    node = data_hosts()
    pid_file = node.host.root / "reader.pid"

    async def go() -> None:
        shell = await node.shell()
        try:

            async def source():  # type: ignore[no-untyped-def]
                yield b"first chunk\n"
                while not pid_file.exists():
                    await asyncio.sleep(0.01)
                raise FediError("the local file went away")

            with pytest.raises(FediError, match="the local file went away"):
                await shell.stream_in(["sh", "-c", f"echo $$ > {pid_file}; exec cat"], source())
            status = await shell.run(["kill", "-0", pid_file.read_text().strip()], check=False)
            assert status != 0, "the remote reader outlived the failure"
        finally:
            await shell.close()

    asyncio.run(go())


@pytest.mark.slow
def test_a_failing_restore_fails_the_transfer_and_says_why(data_hosts: DataHostFactory) -> None:
    a, b = data_hosts(), data_hosts()
    a.pg.create_database("peertube", owner="peertube")
    fill_sample(a.pg, "peertube", owner="peertube")  # the target lacks role peertube

    async def go() -> None:
        sa, sb = await a.shell(), await b.shell()
        try:
            await transfer(
                Database(sa, "peertube", a.pg.database_command()),
                Database(sb, "peertube", b.pg.database_command()),
            )
        finally:
            await sa.close()
            await sb.close()

    with pytest.raises(FediError) as err:
        asyncio.run(go())
    text = str(err.value)
    assert b.host.ssh.address in text and "pg_restore" in text
    assert 'role "peertube" does not exist' in text
