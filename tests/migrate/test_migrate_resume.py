"""A migration killed (SIGKILL) in every phase resumes and ends with the same result.

`FEDI_TUI_TEST_MIGRATE_DIE_IN=<phase>` makes the process kill itself once the
phase's work is done but before the phase is recorded as done — the worst
moment: the next run must redo that phase without harm. One migration is
killed in each phase in turn, then completed; it also changes the domain, so
the apps' host-change procedure is among what is redone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib

import pytest

from fedi_tui.core.migrate.record import PHASES
from fedi_tui.core.migrate.run import DIE_IN
from fedi_tui.core.workspace import Workspace
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.postgres import fill_sample
from tests.migrate.conftest import Providers, activated, held_apps, host_changes, units
from tests.migrate.test_migrate_flow import (
    OBJECTS,
    bucket_contents,
    deployed_with_data,
    migrate,
    record,
)

pytestmark = [pytest.mark.real, pytest.mark.slow]


def killed_in(p: Providers, phase: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedi_tui", "-s", str(p.path), "migrate", "--operator", "coop",
         *args, "--yes"],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
        env={**os.environ, DIE_IN: phase},
    )  # fmt: skip


def test_killed_in_each_phase_the_migration_resumes_to_the_same_result(
    providers: Providers,
) -> None:
    p = providers
    admin = '{ username = "admin", email = "admin@coop.test" }'
    for key, value in (("admin", admin), ("enable", "true")):
        done = fedi(p.path, "set", f"operators.coop.apps.pixelfed.{key}", value)
        assert done.returncode == 0, done.stderr
    deployed_with_data(p)
    p.pg_a.create_database("pixelfed")
    fill_sample(p.pg_a, "pixelfed", rows=40)
    for app in ("mastodon", "pixelfed"):
        p.dns.point(f"{app}.coop.example", "127.0.0.21")
    source_tables = p.pg_a.table_checksums("mastodon")
    source_pixelfed = p.pg_a.table_checksums("pixelfed")
    first = (
        "--to-runtime", "host-b", "--to-storage", "garage-b", "--new-domain", "coop.example",
        "--resolver", p.resolver, "--dns-timeout", "10",
    )  # fmt: skip
    for n, phase in enumerate(PHASES):
        done = killed_in(p, phase, *(first if n == 0 else ()))
        assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
        phases = record(p)["phases"]
        assert phases[phase]["state"] == "running"  # killed before it was recorded done
        assert all(phases[earlier]["state"] == "done" for earlier in PHASES[:n])
        if phase != "start":  # until phase 7 the target's apps are held, never started
            assert activated(p.b) and all(held_apps(c) == 2 for c in activated(p.b)), phase
            assert "active" not in units(p.b).values(), phase
    code, out = migrate(p, "--yes")
    assert code == 0, out
    assert "Resuming at phase start" in out
    assert record(p)["status"] == "migrated"
    # phase 7 (killed once, redone) activated the unheld configuration, once
    assert [held_apps(c) for c in activated(p.b)][-2:] == [2, 0]
    assert units(p.b)["mastodon.target"] == "active"

    # the same result as an uninterrupted run
    assert p.pg_b.table_checksums("mastodon") == source_tables
    assert p.pg_b.table_checksums("pixelfed") == source_pixelfed
    slot = p.path.parent / ".fedi/migrations/coop"
    key = json.loads((slot / "recorded.json").read_text())["keys"]["coop-mastodon"]
    s3 = p.garage_b.s3(key["access_key_id"], (slot / "secrets/keys/coop-mastodon").read_text())
    assert bucket_contents(s3, "coop-mastodon") == OBJECTS
    assert (p.b.secrets_dir / "mastodon/secret-key-base").read_text() == (
        p.a.secrets_dir / "mastodon/secret-key-base"
    ).read_text()
    # Pixelfed's app.env: the source's APP_KEY with the target's own S3 key
    source_env = (p.a.secrets_dir / "pixelfed/app.env").read_text().splitlines()
    target_env = (p.b.secrets_dir / "pixelfed/app.env").read_text().splitlines()
    assert source_env[0].startswith("APP_KEY=") and target_env[0] == source_env[0]
    pixelfed_key = json.loads((slot / "recorded.json").read_text())["keys"]["coop-pixelfed"]
    assert target_env[1] == f"AWS_ACCESS_KEY_ID={pixelfed_key['access_key_id']}"
    assert source_env[1:] != target_env[1:]
    # the host change ran for the new domain, once: the killed run had recorded those steps
    assert host_changes(p.b) == [
        "mastodon-tootctl cache clear",
        "mastodon-tootctl search deploy",
        "pixelfed-manage config:cache",
        "pixelfed-manage route:cache",
    ]
    config = (p.b.config_dir / "configuration.nix").read_text()
    assert '"mastodon.coop.example"' in config

    code, out = migrate(p, "--finish", "--yes")
    assert code == 0, out
    coop = tomllib.loads(p.path.read_text())["operators"]["coop"]
    assert (coop["runtime"], coop["storage"], coop["domain"]) == (
        "host-b",
        "garage-b",
        "coop.example",
    )
    assert Workspace.open(p.path).plan().plan.empty
