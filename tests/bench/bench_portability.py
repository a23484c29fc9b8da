"""Benchmark: moving an operator's data — objects between two S3 servers, a database between
two machines.

    .venv/bin/python -m tests.bench.bench_portability     (as root: it starts sshd hosts)

Prints, from one run (best of ROUNDS each):

* object copy between two moto S3 server processes (behind Garage stand-ins, HTTPS):
  fedi-tui's `copy_objects` (parallel, each object verified: size, MD5/ETag, SHA-256)
  vs a plain boto3 loop (get, put) of the same objects — goal: ≥ 0.8× its throughput;
* database transfer between two real sshd hosts, each with its own PostgreSQL cluster:
  fedi-tui's `transfer` (pg_dump on one, pg_restore on the other, through its own two SSH
  connections) vs a local `pg_dump -Fc | pg_restore` of the same database straight
  between the two clusters — goal: ≤ 1.5× its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from fedi_tui.adapters.garage import GarageAdmin
from fedi_tui.adapters.machines import SshConnector
from fedi_tui.adapters.s3 import S3Objects
from fedi_tui.core.deploy.ports import MachineEndpoint
from fedi_tui.core.portability.database import Database, transfer
from fedi_tui.core.portability.objects import copy_objects
from tests.fixtures.deployhosts import HealthServer, running_deploy_host
from tests.fixtures.garage import GarageStandIn, running_garage
from tests.fixtures.postgres import PgCluster, fill_sample, running_postgres
from tests.fixtures.sshd import FAST_USER, SshHost, ensure_user

ROUNDS = 2
SMALL, SMALL_SIZE = 300, 32 * 1024
LARGE, LARGE_SIZE = 12, 2 * 1024 * 1024
ROWS = 20_000


def _key(garage: GarageStandIn, bucket: str) -> tuple[str, str]:
    async def go() -> tuple[str, str]:
        async with GarageAdmin(garage.provider, garage.spec()) as admin:
            b = await admin.ensure_bucket(bucket)
            k = await admin.ensure_key(bucket)
            await admin.allow(b.id, k.access_key_id, read=True, write=True, owner=False)
            assert k.secret is not None
            return k.access_key_id, k.secret.get_secret_value()

    return asyncio.run(go())


def bench_objects(base: Path) -> tuple[float, float, int, int]:
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(running_garage(base / "a", provider="a"))
        b = stack.enter_context(running_garage(base / "b", provider="b"))
        for garage in (a, b):
            os.environ[garage.token_env] = garage.token
        src_id, src_secret = _key(a, "media")
        s3a = a.s3(src_id, src_secret)
        total = 0
        for i in range(SMALL + LARGE):
            body = os.urandom(LARGE_SIZE if i < LARGE else SMALL_SIZE)
            s3a.put_object(Bucket="media", Key=f"obj/{i:05d}", Body=body)
            total += len(body)
        count = SMALL + LARGE
        loop_best = ours_best = float("inf")
        for r in range(ROUNDS):
            # the plain loop: list, then get and put each object, one after the other
            dst_id, dst_secret = _key(b, f"loop-{r}")
            s3b = b.s3(dst_id, dst_secret)
            t0 = time.perf_counter()
            for page in s3a.get_paginator("list_objects_v2").paginate(Bucket="media"):
                for item in page.get("Contents", []):
                    body = s3a.get_object(Bucket="media", Key=item["Key"])["Body"].read()
                    s3b.put_object(Bucket=f"loop-{r}", Key=item["Key"], Body=body)
            loop_best = min(loop_best, time.perf_counter() - t0)

            dst_id, dst_secret = _key(b, f"ours-{r}")
            src = S3Objects("a", a.spec()).bucket("media", src_id, SecretStr(src_secret))
            dst = S3Objects("b", b.spec()).bucket(f"ours-{r}", dst_id, SecretStr(dst_secret))
            t0 = time.perf_counter()
            report = asyncio.run(copy_objects(src, dst))
            ours_best = min(ours_best, time.perf_counter() - t0)
            assert len(report.copied) == count
        return loop_best, ours_best, count, total


def _endpoint(ssh: SshHost) -> MachineEndpoint:
    return MachineEndpoint(
        name=ssh.address,
        host=ssh.address,
        port=ssh.port,
        user=ssh.user,
        key_path=str(ssh.client_key),
        host_key=ssh.host_public_key,
        known_hosts=str(ssh.known_hosts),
    )


def _local_pipe(src: PgCluster, dst: PgCluster, db: str) -> float:
    dump = [str(src.bin / "pg_dump"), "--format=custom", "--no-password", db]
    restore = [
        str(dst.bin / "pg_restore"),
        "--clean",
        "--if-exists",
        "--create",
        "--exit-on-error",
        "--no-password",
        "--dbname=postgres",
    ]
    t0 = time.perf_counter()
    producer = subprocess.Popen(dump, stdout=subprocess.PIPE, env={**os.environ, **src.env()})
    consumer = subprocess.run(
        restore, stdin=producer.stdout, env={**os.environ, **dst.env()}, capture_output=True
    )
    assert producer.stdout is not None
    producer.stdout.close()
    assert producer.wait() == 0 and consumer.returncode == 0, consumer.stderr
    return time.perf_counter() - t0


def bench_database(base: Path) -> tuple[float, float, int]:
    ensure_user(FAST_USER)
    health = HealthServer()
    try:
        with contextlib.ExitStack() as stack:
            hosts = [
                stack.enter_context(running_deploy_host(base / addr, address=addr, health=health))
                for addr in ("127.0.0.60", "127.0.0.61")
            ]
            pgs = [stack.enter_context(running_postgres(h.ssh.address)) for h in hosts]
            pgs[0].create_database("mastodon", owner="mastodon")
            fill_sample(pgs[0], "mastodon", rows=ROWS, owner="mastodon")
            pgs[1].psql("postgres", 'CREATE ROLE "mastodon" LOGIN')
            size = int(pgs[0].psql("postgres", "SELECT pg_database_size('mastodon')"))
            local_best = ours_best = float("inf")
            for _ in range(ROUNDS):
                local_best = min(local_best, _local_pipe(pgs[0], pgs[1], "mastodon"))

                async def ours() -> float:
                    a = await SshConnector().connect(_endpoint(hosts[0].ssh))
                    b = await SshConnector().connect(_endpoint(hosts[1].ssh))
                    try:
                        t0 = time.perf_counter()
                        await transfer(
                            Database(a, "mastodon", pgs[0].database_command()),
                            Database(b, "mastodon", pgs[1].database_command()),
                        )
                        return time.perf_counter() - t0
                    finally:
                        await a.close()
                        await b.close()

                ours_best = min(ours_best, asyncio.run(ours()))
            assert pgs[1].table_checksums("mastodon") == pgs[0].table_checksums("mastodon")
            return local_best, ours_best, size
    finally:
        health.close()


def _mib(n: float) -> str:
    return f"{n / 1024**2:.1f} MiB"


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="fedi-bench-portability-"))
    loop, ours, count, total = bench_objects(base / "s3")
    print(f"object copy: {count} objects, {_mib(total)} between two moto S3 servers (HTTPS)")
    print(f"  plain boto3 loop (get, put):        {loop:6.2f} s  {_mib(total / loop)}/s")
    print(f"  fedi-tui copy_objects (verified):   {ours:6.2f} s  {_mib(total / ours)}/s")
    print(f"  throughput ratio fedi-tui / loop:   {loop / ours:.2f}x   (goal >= 0.8x)")
    local, ours_db, size = bench_database(base / "pg")
    print(f"database transfer: {_mib(size)} on disk, {ROWS} accounts, {ROWS * 5} statuses")
    print(f"  local pg_dump -Fc | pg_restore:     {local:6.2f} s")
    print(f"  fedi-tui transfer over two SSH:     {ours_db:6.2f} s")
    print(f"  time ratio fedi-tui / local:        {ours_db / local:.2f}x   (goal <= 1.5x)")


if __name__ == "__main__":
    main()
