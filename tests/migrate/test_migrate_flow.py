"""A whole migration on two providers: data proven equal, source untouched until --finish.

Real parts: OpenSSH sshd hosts with PostgreSQL clusters, Garage admin stand-ins
over two moto S3 processes, dnsmasq answering the operator's names.
"""

from __future__ import annotations

import hashlib
import json
import tomllib

import pytest

from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.workspace import Workspace
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.postgres import fill_sample
from tests.migrate.conftest import Providers, activated, held_apps, units

pytestmark = [pytest.mark.real, pytest.mark.slow]

OBJECTS = {
    "media/1.png": b"\x89PNG" + bytes(range(256)) * 40,
    "media/ünï code.txt": "héllo wörld\n".encode(),
    "cache/empty": b"",
    "media/big.bin": hashlib.sha256(b"x").digest() * 40_000,  # 1.28 MB
}


def migrate(p: Providers, *args: str) -> tuple[int, str]:
    run = fedi(p.path, "migrate", "--operator", "coop", *args, timeout=240)
    return run.returncode, run.stdout + run.stderr


def deployed_with_data(p: Providers) -> None:
    """The source deployed, its database filled and its bucket holding objects."""
    done = fedi(p.path, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    p.pg_a.create_database("mastodon")
    fill_sample(p.pg_a, "mastodon", rows=150)
    s3 = source_s3(p)
    for key, body in OBJECTS.items():
        s3.put_object(Bucket="coop-mastodon", Key=key, Body=body)
    p.dns.point("mastodon.coop.test", "127.0.0.20")


def source_s3(p: Providers):  # type: ignore[no-untyped-def]
    state = p.path.parent / ".fedi"
    key = Workspace.open(p.path).recorded.keys["coop-mastodon"].access_key_id
    return p.garage_a.s3(key, (state / "secrets/keys/coop-mastodon").read_text())


def bucket_contents(s3, bucket: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def record(p: Providers) -> dict:  # type: ignore[type-arg]
    return json.loads((p.path.parent / ".fedi/migrations/coop.json").read_text())


def test_migration_moves_everything_and_finish_switches_the_state(providers: Providers) -> None:
    p = providers
    deployed_with_data(p)
    state_before = p.path.read_text()
    source_tables = p.pg_a.table_checksums("mastodon")
    source_generation = p.a.generation()

    # the DNS still points at the source: every phase up to DNS runs, DNS times out
    code, out = migrate(
        p,
        "--to-runtime", "host-b", "--to-storage", "garage-b",
        "--resolver", p.resolver, "--dns-timeout", "2", "--yes",
    )  # fmt: skip
    assert code == 1, out
    assert "mastodon.coop.test A answers 127.0.0.20 (want 127.0.0.21)" in out
    assert "change the records at the registrar" in out
    assert [record(p)["phases"][n]["state"] for n in ("objects", "fixups", "dns", "start")] == [
        "done",
        "done",
        "failed",
        "pending",
    ]
    # phases 1-5 activated the target held: its app never started against the empty data
    held = activated(p.b)
    assert held and all(held_apps(config) == 1 for config in held)
    assert "active" not in units(p.b).values()
    # the operator changes the record; the migration resumes at DNS and completes
    p.dns.point("mastodon.coop.test", "127.0.0.21")
    code, out = migrate(p, "--yes")
    assert code == 0, out
    assert "Resuming at phase dns" in out and "→ provision" not in out
    assert "1 of 1 records point at the target" in out
    assert "health-check:host-b done" in out
    # phase 7 redeployed it unheld (evaluated under the real modules), then started it
    after = activated(p.b)
    assert after[: len(held)] == held and len(after) == len(held) + 1
    assert held_apps(after[-1]) == 0 and "holdServices" not in after[-1]
    assert units(p.b) == {"mastodon.target": "active"}
    assert record(p)["status"] == "migrated"
    for name, phase in record(p)["phases"].items():  # shown with -s: where the time goes
        print(f"phase {name}: {phase['finished'] - phase['started']:.2f} s")

    # every table's rows are equal, every object byte-identical
    assert p.pg_b.table_checksums("mastodon") == source_tables
    slot = p.path.parent / ".fedi/migrations/coop"
    target_key = json.loads((slot / "recorded.json").read_text())["keys"]["coop-mastodon"]
    target_s3 = p.garage_b.s3(
        target_key["access_key_id"], (slot / "secrets/keys/coop-mastodon").read_text()
    )
    assert bucket_contents(target_s3, "coop-mastodon") == OBJECTS
    # the same secrets on the target, with the target's own S3 key
    a_secrets, b_secrets = p.a.secrets_dir / "mastodon", p.b.secrets_dir / "mastodon"
    assert (b_secrets / "secret-key-base").read_text() == (
        a_secrets / "secret-key-base"
    ).read_text()
    assert target_key["access_key_id"] in (b_secrets / "s3.env").read_text()
    assert (b_secrets / "s3.env").read_text() != (a_secrets / "s3.env").read_text()
    # the source is untouched: its data, its system, fedi.toml
    assert p.pg_a.table_checksums("mastodon") == source_tables
    assert bucket_contents(source_s3(p), "coop-mastodon") == OBJECTS
    assert p.a.generation() == source_generation and p.a.config_dir.exists()
    assert p.path.read_text() == state_before
    # one event stream: the migration's runs are in the history, its log has the phases
    index = json.loads((p.path.parent / ".fedi/deployments/index.json").read_text())
    runs = [d for d in index["deployments"] if d["kind"] == "migrate"]
    assert [r["outcome"] for r in runs] == ["failed", "succeeded"]
    shown = fedi(p.path, "logs", runs[-1]["id"])
    assert "→ start the apps on the target" in shown.stdout
    # no secret of either side in the logs, the records or what was printed
    state = p.path.parent / ".fedi"
    values = SecretStore(state).all_values() + SecretStore(slot).all_values()
    assert len(values) >= 4
    written = [f.read_text() for f in (state / "deployments").glob("*.jsonl")]
    written += [(state / "migrations/coop.json").read_text(), out]
    assert not [v for v in values for text in written if v in text]

    # --finish: the source is decommissioned and fedi.toml names the target
    code, out = migrate(p, "--finish", "--yes")
    assert code == 0, out
    assert not p.a.config_dir.exists()  # the NixOS host's configuration is cleared
    text = p.path.read_text()
    assert text.startswith("# two providers, side by side\n")  # comments kept
    coop = tomllib.loads(text)["operators"]["coop"]
    assert (coop["runtime"], coop["storage"]) == ("host-b", "garage-b")
    workspace = Workspace.open(p.path)
    assert workspace.plan().plan.empty  # the target is what fedi.toml now describes
    assert workspace.recorded.machines["host-b"].healthy
    assert "host-a" not in workspace.recorded.machines
    assert p.garage_a.bucket("coop-mastodon") is not None  # kept without --prune-data
    assert not slot.exists() and record(p)["status"] == "finished"
