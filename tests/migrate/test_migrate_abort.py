"""Ctrl+C during the DNS wait, then migrate --abort: the source serves again, the target goes."""

from __future__ import annotations

import json
import signal

import pytest

from fedi_tui.core.workspace import Workspace
from tests.deploy.test_apply_cli import fedi, start, wait_for_line
from tests.fixtures.postgres import systemctl_calls
from tests.migrate.conftest import Providers, activated, held_apps, units
from tests.migrate.test_migrate_flow import OBJECTS, bucket_contents, deployed_with_data, record
from tests.migrate.test_migrate_flow import migrate as migrate_cli

pytestmark = [pytest.mark.real, pytest.mark.slow]

STOPPED = {"mastodon-web.service", "mastodon-streaming-%.service", "mastodon-sidekiq-%.service"}


def test_interrupted_at_dns_then_abort_returns_the_source_to_service(p: Providers) -> None:
    before = p.path.read_text()
    source_tables = p.pg_a.table_checksums("mastodon")
    proc = start(
        p.path, "migrate", "--operator", "coop", "--to-runtime", "host-b",
        "--to-storage", "garage-b", "--resolver", p.resolver, "--yes",
    )  # fmt: skip
    wait_for_line(p.path.parent / ".fedi/deployments", "0 of 1 records point at the target", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    # the plan came first: phases, target machines and buckets, DNS records old → new
    assert out.index("Phases:") < out.index("→ provision")
    assert "machine host-b on host-b" in out and "bucket coop-mastodon on garage-b" in out
    assert "mastodon.coop.test  A  127.0.0.20 → 127.0.0.21" in out
    phases = record(p)["phases"]
    assert [phases[n]["state"] for n in ("fixups", "dns", "start")] == [
        "done",
        "pending",
        "pending",
    ]
    assert phases["dns"]["message"] == "interrupted"
    index = json.loads((p.path.parent / ".fedi/deployments/index.json").read_text())
    assert index["deployments"][-1]["outcome"] == "interrupted"
    # the source is frozen, the target deployed held: its services never started
    assert units(p.a) == dict.fromkeys(STOPPED, "inactive")
    assert units(p.b) == {}
    assert p.b.generation() == 1 and p.garage_b.bucket("coop-mastodon") is not None
    assert [held_apps(c) for c in activated(p.b)] == [1]
    assert p.path.read_text() == before  # fedi.toml untouched while migrating
    # an apply that would switch the frozen source is refused, saying what to do
    changed = fedi(p.path, "set", "operators.coop.apps.mastodon.media_retention_days", "21")
    assert changed.returncode == 0, changed.stderr
    refused = fedi(p.path, "apply", "--yes")
    assert refused.returncode == 1
    assert "operator coop is migrating to host-b / garage-b" in refused.stderr
    assert "--finish` or `--abort`" in refused.stderr
    p.path.write_text(before)

    code, out = migrate_cli(p, "--abort", "--yes")
    assert code == 0, out
    assert units(p.a)["mastodon.target"] == "active"
    assert systemctl_calls(p.a)[-1] == "systemctl start mastodon.target"
    assert "health-check:host-a done" in out
    # the target is gone: its configuration cleared, its bucket and key removed
    assert not p.b.config_dir.exists()
    assert p.garage_b.bucket("coop-mastodon") is None
    assert not (p.path.parent / ".fedi/migrations/coop").exists()
    assert record(p)["status"] == "aborted"
    # the source's data and records are as they were
    assert p.path.read_text() == before
    assert p.pg_a.table_checksums("mastodon") == source_tables
    state = p.path.parent / ".fedi"
    key = Workspace.open(p.path).recorded.keys["coop-mastodon"].access_key_id
    s3 = p.garage_a.s3(key, (state / "secrets/keys/coop-mastodon").read_text())
    assert bucket_contents(s3, "coop-mastodon") == OBJECTS
    assert Workspace.open(p.path).plan().plan.empty
    kinds = [
        d["kind"] for d in json.loads((state / "deployments/index.json").read_text())["deployments"]
    ]
    assert kinds == ["apply", "migrate", "migrate"]


@pytest.fixture
def p(providers: Providers) -> Providers:
    deployed_with_data(providers)
    return providers
