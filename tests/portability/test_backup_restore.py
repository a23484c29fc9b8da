"""`fedi-tui backup` and `restore` end to end: real sshd hosts, PostgreSQL, S3 and Garage.

Backup → wipe (drop the databases, empty the buckets, delete the secrets) → restore
gives equal tables (a checksum per table), byte-identical objects and identical
secrets; a tampered backup is refused with nothing touched; a killed backup leaves
nothing that looks like a backup.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.core.deploy.history import load_index
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.workspace import Workspace
from tests.deploy.conftest import write_state
from tests.deploy.engine_support import apply
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.garage import GarageStandIn
from tests.fixtures.postgres import PgCluster, fill_sample, systemctl_calls
from tests.portability.conftest import DataHost, DataHostFactory

pytestmark = [pytest.mark.real, pytest.mark.slow]

APPS = ("mastodon", "pixelfed")


@dataclass
class Deployed:
    path: Path
    node: DataHost
    garage: GarageStandIn

    @property
    def pg(self) -> PgCluster:
        return self.node.pg

    def s3(self, instance: str) -> Any:
        ws = Workspace.open(self.path)
        key = ws.recorded.keys[instance]
        secret = SecretStore(ws.state_dir).key_secret(instance)
        assert key.access_key_id and secret
        return self.garage.s3(key.access_key_id, secret.get_secret_value())

    def objects(self, bucket: str) -> dict[str, bytes]:
        s3 = self.s3(bucket)
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}

    def secrets(self) -> dict[str, bytes]:
        root = self.path.parent / ".fedi" / "secrets"
        local = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        there = self.node.host.secrets_dir
        remote = {
            f"machine:{p.relative_to(there)}": p.read_bytes()
            for p in there.rglob("*")
            if p.is_file()
        }
        return local | remote

    def tables(self) -> dict[str, dict[str, str]]:
        return {db: self.pg.table_checksums(db) for db in APPS}


@pytest.fixture
def deployed(tmp_path: Path, data_hosts: DataHostFactory, garage: GarageStandIn) -> Deployed:
    node = data_hosts()
    path = write_state(
        tmp_path,
        [node.host],
        apps=APPS,
        garage=garage,
        deploy={"database_command": node.pg.database_command()},
    )
    result, _ = apply(path)
    assert result.outcome == "succeeded", result.messages
    d = Deployed(path, node, garage)
    for n, app in enumerate(APPS):
        node.pg.create_database(app, owner=app)
        fill_sample(node.pg, app, rows=100 + 50 * n, owner=app)
        s3 = d.s3(f"op1-{app}")
        for i in range(12):
            body = os.urandom(500 + 997 * i) if i != 5 else b""
            s3.put_object(Bucket=f"op1-{app}", Key=f"media/{i:03d}/ö {i}.bin", Body=body)
    return d


def test_backup_wipe_restore_gives_back_equal_data(tmp_path: Path, deployed: Deployed) -> None:
    d = deployed
    tables, secrets = d.tables(), d.secrets()
    objects = {app: d.objects(f"op1-{app}") for app in APPS}
    assert all(len(o) == 12 for o in objects.values())

    done = fedi(d.path, "backup", "--operator", "op1", "--to", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    assert "Backup of op1 complete" in done.stdout
    assert "objects op1-mastodon done: 12/12 objects" in done.stdout
    assert "database mastodon done:" in done.stdout and "/s" in done.stdout
    assert "secrets op1-mastodon done: 3 files" in done.stdout
    assert "configuration host1 done:" in done.stdout
    manifest = json.loads((tmp_path / "bk/manifest.json").read_text())
    assert manifest["operator"] == "op1" and manifest["fedi_tui_version"]
    assert {i["key"] for i in manifest["instances"]} == {"op1-mastodon", "op1-pixelfed"}
    assert all(i["app_module_version"] for i in manifest["instances"])
    assert (tmp_path / "bk/op1-mastodon/secrets.json").stat().st_mode & 0o077 == 0
    assert (tmp_path / "bk/configuration").is_dir()
    for value in secrets.values():  # no secret in the log or on screen
        text = value.decode().strip()
        if len(text) >= 8:
            assert text not in done.stdout + done.stderr

    # wipe: the databases, the buckets' objects, every secret (here and on the machine)
    for app in APPS:
        d.pg.drop_database(app)
        s3 = d.s3(f"op1-{app}")
        for key in objects[app]:
            s3.delete_object(Bucket=f"op1-{app}", Key=key)
    store = SecretStore(d.path.parent / ".fedi")
    for app in APPS:
        store.remove_app(f"op1-{app}")
        store.remove_key(f"op1-{app}")
    for p in d.node.host.secrets_dir.rglob("*"):
        if p.is_file() and p.name != ".fedi-tui-managed":  # fedi-tui's mark of its directory
            p.unlink()
    assert list(d.secrets()) == ["machine:.fedi-tui-managed"]
    calls_before = len(systemctl_calls(d.node.host))

    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(tmp_path / "bk"), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all healthy" in done.stdout
    assert d.tables() == tables
    assert {app: d.objects(f"op1-{app}") for app in APPS} == objects
    assert d.secrets() == secrets
    calls = systemctl_calls(d.node.host)[calls_before:]
    assert calls[0].startswith("systemctl stop mastodon-web.service")
    assert calls[2] == "systemd-tmpfiles --create"  # the pushed secrets get their owners
    assert calls[-1].startswith("systemctl start")
    kinds = [r.kind for r in load_index(d.path.parent / ".fedi").deployments]
    assert kinds[-2:] == ["backup", "restore"]
    logged = fedi(d.path, "logs", "last")
    assert logged.returncode == 0 and "objects op1-mastodon done: 12/12 objects" in logged.stdout


def test_a_tampered_backup_is_refused_before_anything_is_touched(
    tmp_path: Path, deployed: Deployed
) -> None:
    d = deployed
    done = fedi(d.path, "backup", "--operator", "op1", "--to", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    stored = sorted((tmp_path / "bk/objects/op1-pixelfed").rglob("*"))
    victim = next(p for p in stored if p.is_file() and p.stat().st_size > 0)
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    victim.write_bytes(bytes(data))
    d.pg.psql("mastodon", "INSERT INTO accounts (username) VALUES ('after-the-backup')")
    tables, secrets = d.tables(), d.secrets()
    calls, runs = systemctl_calls(d.node.host), load_index(d.path.parent / ".fedi").deployments

    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(tmp_path / "bk"), "--yes")
    assert done.returncode == 1
    assert "does not match its manifest, so nothing was restored" in done.stderr
    assert "bucket op1-pixelfed: object" in done.stderr and "Traceback" not in done.stderr
    assert d.tables() == tables and d.secrets() == secrets
    assert systemctl_calls(d.node.host) == calls
    assert load_index(d.path.parent / ".fedi").deployments == runs

    (tmp_path / "bk/op1-mastodon/database.dump").write_bytes(b"PGDMP not really")
    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(tmp_path / "bk"), "--yes")
    assert done.returncode == 1 and "op1-mastodon/database.dump: checksum" in done.stderr


def test_a_killed_backup_leaves_nothing_that_looks_complete(
    tmp_path: Path, deployed: Deployed
) -> None:
    d = deployed
    s3 = d.s3("op1-pixelfed")
    for i in range(150):  # enough that the kill lands while objects are copied
        s3.put_object(Bucket="op1-pixelfed", Key=f"many/{i}", Body=os.urandom(20_000))
    target = tmp_path / "bk"
    partial = tmp_path / ".bk.partial"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fedi_tui",
            "-s",
            str(d.path),
            "backup",
            "--operator",
            "op1",
            "--to",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(partial.glob("objects/op1-pixelfed/*/*")):
        assert proc.poll() is None, "the backup ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(target), "--yes")
    assert done.returncode == 1 and "no such backup directory" in done.stderr
    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(partial), "--yes")
    assert done.returncode == 1 and "not a complete backup" in done.stderr
    # a new backup to the same path cleans up and completes
    done = fedi(d.path, "backup", "--operator", "op1", "--to", str(target))
    assert done.returncode == 0, done.stderr
    assert not partial.exists() and (target / "manifest.json").exists()


def test_ctrl_c_during_a_backup_exits_130_and_leaves_nothing(
    tmp_path: Path, deployed: Deployed
) -> None:
    d = deployed
    s3 = d.s3("op1-pixelfed")
    for i in range(150):
        s3.put_object(Bucket="op1-pixelfed", Key=f"many/{i}", Body=os.urandom(20_000))
    target, partial = tmp_path / "bk", tmp_path / ".bk.partial"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fedi_tui",
            "-s",
            str(d.path),
            "backup",
            "--operator",
            "op1",
            "--to",
            str(target),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(partial.glob("objects/op1-pixelfed/*/*")):
        assert proc.poll() is None, "the backup ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not target.exists() and not partial.exists()
    last = load_index(d.path.parent / ".fedi").deployments[-1]
    assert (last.kind, last.outcome) == ("backup", "interrupted")


def test_restore_after_the_storage_keys_were_re_created_keeps_the_new_keys(
    tmp_path: Path, deployed: Deployed
) -> None:
    """The disaster case: storage and secrets lost, apply made new keys and secrets; the
    restore brings back the app's own secrets but keeps the new keys (and points at them)."""
    import asyncio

    from fedi_tui.adapters.garage import GarageAdmin
    from fedi_tui.core.deploy.recorded import load_recorded, save_recorded

    d = deployed
    state_dir = d.path.parent / ".fedi"
    tables = d.tables()
    objects = {app: d.objects(f"op1-{app}") for app in APPS}
    old = {app: (state_dir / f"secrets/apps/op1-{app}") for app in APPS}
    before = {app: {p.name: p.read_text() for p in old[app].iterdir()} for app in APPS}
    done = fedi(d.path, "backup", "--operator", "op1", "--to", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr

    # lose everything: the keys (in Garage and recorded), the secrets, the data
    recorded = load_recorded(state_dir)
    old_ids = {app: recorded.keys[f"op1-{app}"].access_key_id for app in APPS}

    async def delete_keys() -> None:
        async with GarageAdmin(d.garage.provider, d.garage.spec()) as admin:
            for key_id in old_ids.values():
                assert key_id is not None
                await admin.delete_key(key_id)

    admin_s3 = d.garage.s3()
    for app in APPS:
        for key in objects[app]:
            admin_s3.delete_object(Bucket=f"op1-{app}", Key=key)
        d.pg.drop_database(app)
    asyncio.run(delete_keys())
    store = SecretStore(state_dir)
    for app in APPS:
        store.remove_app(f"op1-{app}")
        store.remove_key(f"op1-{app}")
    save_recorded(state_dir, recorded.model_copy(update={"keys": {}, "secrets": {}}))
    result, _ = apply(d.path)
    assert result.outcome == "succeeded", result.messages
    new_ids = {app: load_recorded(state_dir).keys[f"op1-{app}"].access_key_id for app in APPS}
    assert all(new_ids[a] and new_ids[a] != old_ids[a] for a in APPS)
    new_key_secrets = {a: store.key_secret(f"op1-{a}") for a in APPS}

    done = fedi(d.path, "restore", "--operator", "op1", "--from", str(tmp_path / "bk"), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "was re-created since the backup" in done.stdout
    assert d.tables() == tables
    assert {app: d.objects(f"op1-{app}") for app in APPS} == objects
    for app in APPS:
        assert store.key_secret(f"op1-{app}") == new_key_secrets[app]
    after = {app: {p.name: p.read_text() for p in old[app].iterdir()} for app in APPS}
    assert after["mastodon"]["secret-key-base"] == before["mastodon"]["secret-key-base"]
    assert after["pixelfed"]["admin-password"] == before["pixelfed"]["admin-password"]
    app_key = before["pixelfed"]["app.env"].splitlines()[0]
    assert app_key.startswith("APP_KEY=") and app_key in after["pixelfed"]["app.env"]
    for app, file in (("mastodon", "s3.env"), ("pixelfed", "app.env")):
        assert f"AWS_ACCESS_KEY_ID={new_ids[app]}\n" in after[app][file]
        secret = new_key_secrets[app]
        assert secret is not None
        assert f"AWS_SECRET_ACCESS_KEY={secret.get_secret_value()}\n" in after[app][file]
        pushed = (d.node.host.secrets_dir / app / file).read_text()
        assert pushed == after[app][file]
