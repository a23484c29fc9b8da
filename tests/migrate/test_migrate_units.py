"""The pure parts of a migration: checks before it starts, its record, secrets, progress rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fedi_tui.adapters.dns import DnsResolver, parse_resolver
from fedi_tui.core.apps.base import SecretNeed
from fedi_tui.core.deploy.events import LogLine, RunFinished, StepFinished, StepStarted
from fedi_tui.core.deploy.events import TransferProgress as Progress
from fedi_tui.core.errors import FediError
from fedi_tui.core.migrate.phases import reused_secret
from fedi_tui.core.migrate.record import (
    MigrationRecord,
    Place,
    load_migration,
    record_path,
    save_migration,
)
from fedi_tui.core.migrate.start import begin
from fedi_tui.core.views.migration import MigrationProgress, targets
from fedi_tui.core.workspace import Workspace
from tests.fixtures.dnsmasq import running_dnsmasq


def _begin(path: Path, **options: str | None) -> MigrationRecord:
    values: dict[str, str | None] = {"runtime": None, "storage": None, "domain": None}
    values |= options
    return begin(
        Workspace.open(path),
        "coop",
        resolver=None,
        user="t@test",
        **values,  # type: ignore[arg-type]
    )[0]


def test_a_migration_is_refused_with_what_to_do(demo_copy: Path) -> None:
    with pytest.raises(FediError, match="give --to-runtime and --to-storage"):
        _begin(demo_copy)
    with pytest.raises(FediError, match=r"--to-runtime pve-z: no such runtime .* known: pve-a"):
        _begin(demo_copy, runtime="pve-z", storage="garage-a")
    with pytest.raises(FediError, match=r"--to-storage s3-z: no such storage .* known: garage-a"):
        _begin(demo_copy, runtime="bare-1", storage="s3-z")
    with pytest.raises(FediError, match="another runtime and another storage"):
        _begin(demo_copy, runtime="bare-1", storage="garage-a")


def test_only_a_deployed_operator_migrates(demo_copy: Path) -> None:
    text = demo_copy.read_text().replace(
        "[operators.coop]", '[storage.garage-b]\nkind = "garage"\n'
        's3_endpoint = "https://127.0.0.9:3900"\nadmin_endpoint = "https://127.0.0.9:3903"\n'
        'admin_token = { env = "GB" }\n\n[operators.coop]'
    )  # fmt: skip
    demo_copy.write_text(text)
    with pytest.raises(FediError, match=r"machine coop\S* is not deployed yet; apply it first"):
        _begin(demo_copy, runtime="bare-1", storage="garage-b")


def test_a_running_migration_resumes_and_refuses_another_target(tmp_path: Path) -> None:
    record = MigrationRecord(
        operator="coop",
        source=Place(runtime="a", storage="sa", domain="coop.test"),
        target=Place(runtime="b", storage="sb", domain="coop.test"),
    )
    save_migration(tmp_path, record)
    loaded = load_migration(tmp_path, "coop")
    assert loaded == record and loaded.next_phase() == "provision"
    assert record_path(tmp_path, "coop").stat().st_mode & 0o777 == 0o600
    record_path(tmp_path, "coop").write_text('{"schema": 1,\n "operator": ')
    with pytest.raises(FediError, match=r"coop\.json:2:14: the migration record is not valid"):
        load_migration(tmp_path, "coop")
    record_path(tmp_path, "coop").write_text('{"schema": 9}')
    with pytest.raises(FediError, match="schema 9 is newer than this fedi-tui; upgrade"):
        load_migration(tmp_path, "coop")


def test_the_target_reuses_the_sources_secrets_with_its_own_s3_key() -> None:
    source_env = "APP_KEY=base64:abc\nAWS_ACCESS_KEY_ID=GKold\nAWS_SECRET_ACCESS_KEY=old\n"
    assert reused_secret(SecretNeed("k", "random"), "f00d\n", "GKnew", "new") == "f00d\n"
    assert reused_secret(SecretNeed("s3.env", "s3-env"), "AWS…", "GKnew", "new") is None
    assert reused_secret(SecretNeed("app.env", "env", ("APP_KEY",)), source_env, "GKn", "new") == (
        "APP_KEY=base64:abc\nAWS_ACCESS_KEY_ID=GKn\nAWS_SECRET_ACCESS_KEY=new\n"
    )


def test_the_resolver_is_an_address_never_a_name() -> None:
    assert parse_resolver("127.0.0.53:5353") == ("127.0.0.53", 5353)
    assert parse_resolver("127.0.0.1") == ("127.0.0.1", 53)
    assert parse_resolver("[::1]:53") == ("::1", 53)
    for bad in ("dns.example:53", "127.0.0.1:0", "127.0.0.1:x"):
        with pytest.raises(FediError, match="--resolver"):
            parse_resolver(bad)


@pytest.mark.real
def test_the_dns_client_asks_the_configured_resolver(tmp_path: Path) -> None:
    with running_dnsmasq(tmp_path / "dns", address="127.0.0.61") as dns:
        client = DnsResolver(dns.resolver)
        assert asyncio.run(client.lookup("social.coop.test", "A")) == ()
        dns.point("social.coop.test", "127.0.0.30")
        assert asyncio.run(client.lookup("social.coop.test", "A")) == ("127.0.0.30",)
        dns.point("social.coop.test", "127.0.0.31")  # SIGHUP: dnsmasq reads its file again
        assert asyncio.run(client.lookup("social.coop.test", "A")) == ("127.0.0.31",)
    silent = DnsResolver(dns.resolver, timeout=0.3)  # stopped: no answer
    with pytest.raises(FediError, match=r"DNS resolver 127\.0\.0\.61:\d+ did not answer"):
        asyncio.run(silent.lookup("social.coop.test", "A"))


def test_progress_rows_follow_the_phase_events() -> None:
    record = MigrationRecord(
        operator="coop",
        source=Place(runtime="a", storage="sa", domain="coop.test"),
        target=Place(runtime="b", storage="sb", domain="coop.test"),
    ).with_phase("provision", state="done")
    progress = MigrationProgress.of(record)
    common = {"deployment": "d1", "at": 1.0}
    progress.feed(
        [
            StepStarted(step="phase:objects", description="objects", **common),
            Progress(
                step="phase:objects", part="objects", what="coop-mastodon", bytes=3_000_000,
                objects=12, total_objects=40, seconds=2.0, **common,
            ),
            StepFinished(step="phase:objects", outcome="done", seconds=2.5, **common),
            StepStarted(step="phase:dns", description="dns", **common),
            LogLine(step="phase:dns", stream="info", text="0 of 1 records point", **common),
            StepFinished(step="phase:dns", outcome="interrupted", message="paused", **common),
            RunFinished(outcome="interrupted", message="paused; run again", **common),
        ]
    )  # fmt: skip
    rows = {r.name: r for r in progress.rows}
    assert (rows["provision"].mark, rows["objects"].mark, rows["dns"].mark) == ("✓", "✓", "‖")
    assert rows["objects"].detail == "in 2.5 s"
    assert rows["dns"].detail == "paused"
    assert progress.outcome == "interrupted"
    progress.feed([Progress(step="phase:objects", part="objects", what="b", bytes=3_000_000,
                            objects=12, total_objects=40, seconds=2.0, **common)])  # fmt: skip
    assert rows["objects"].detail == "b: 12/40 objects, 3.0 MB (1.5 MB/s)"


def test_targets_are_the_other_runtimes_and_storage(demo_copy: Path) -> None:
    spec = Workspace.open(demo_copy).spec
    assert targets(spec, "coop").runtimes == ("bare-1",)
    assert targets(spec, "coop").storage == ()
