"""migrate --abort before DNS: the source serves again, the target is removed."""

from __future__ import annotations

import json

import pytest

from fedi_tui.core.workspace import Workspace
from tests.deploy.test_apply_cli import fedi
from tests.fixtures.postgres import systemctl_calls
from tests.migrate.conftest import Providers, units

pytestmark = [pytest.mark.real, pytest.mark.slow]

STOPPED = {"mastodon-web.service", "mastodon-streaming-%.service", "mastodon-sidekiq-%.service"}


def migrate(p: Providers, *args: str) -> tuple[int, str]:
    run = fedi(p.path, "migrate", "--operator", "coop", *args)
    return run.returncode, run.stdout + run.stderr


def test_abort_before_dns_returns_the_source_to_service(providers: Providers) -> None:
    p = providers
    done = fedi(p.path, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    before = p.path.read_text()
    code, out = migrate(
        p,
        "--to-runtime",
        "host-b",
        "--to-storage",
        "garage-b",
        "--resolver",
        p.resolver,
        "--dns-timeout",
        "1",
        "--yes",
    )
    assert code == 1, out
    # the plan came first: phases, target machines and buckets, DNS records old → new
    assert out.index("Phases:") < out.index("→ provision")
    assert "machine host-b on host-b" in out and "bucket coop-mastodon on garage-b" in out
    assert "mastodon.coop.test  A  127.0.0.20 → 127.0.0.21" in out
    record = json.loads((p.path.parent / ".fedi/migrations/coop.json").read_text())
    assert record["phases"]["provision"]["state"] == "done"
    assert record["phases"]["freeze"]["state"] == "done"
    # the source is frozen, the target deployed with its services kept stopped
    assert units(p.a) == dict.fromkeys(STOPPED, "inactive")
    assert units(p.b) == dict.fromkeys(STOPPED, "inactive")
    assert p.b.generation() == 1 and p.garage_b.bucket("coop-mastodon") is not None
    assert p.path.read_text() == before  # fedi.toml untouched while migrating

    code, out = migrate(p, "--abort", "--yes")
    assert code == 0, out
    assert units(p.a)["mastodon.target"] == "active"
    assert systemctl_calls(p.a)[-1] == "systemctl start mastodon.target"
    assert "health-check:host-a done" in out
    # the target is gone: its configuration cleared, its bucket and key removed
    assert not p.b.config_dir.exists()
    assert p.garage_b.bucket("coop-mastodon") is None
    assert not (p.path.parent / ".fedi/migrations/coop").exists()
    assert json.loads((p.path.parent / ".fedi/migrations/coop.json").read_text())["status"] == (
        "aborted"
    )
    assert p.path.read_text() == before
    workspace = Workspace.open(p.path)
    assert workspace.plan().plan.empty  # the source is exactly as recorded before
    history = json.loads((p.path.parent / ".fedi/deployments/index.json").read_text())
    assert [d["kind"] for d in history["deployments"]] == ["apply", "migrate", "migrate"]
