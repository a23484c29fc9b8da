"""The engine on real sshd hosts: a first apply deploys, a second changes nothing."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from fedi_tui.core.deploy.events import LogLine, StepFinished
from fedi_tui.core.workspace import Workspace
from tests.deploy.conftest import HostFactory, write_state
from tests.deploy.engine_support import apply

pytestmark = pytest.mark.real


def test_one_host_deploys_and_then_plans_nothing(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    result, sink = apply(path)
    assert result.outcome == "succeeded", [e for e in sink.events if isinstance(e, StepFinished)]
    assert result.machines == {"host1": "done"}
    assert host.generation() == 1
    assert (host.config_dir / "configuration.nix").exists()
    secret = host.secrets_dir / "mastodon" / "secret-key-base"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o400
    workspace = Workspace.open(path)
    assert workspace.plan().plan.empty
    assert any(isinstance(e, LogLine) and "parsed" in e.text for e in sink.events)
    # what arrived is what was rendered, owned by the login user, private
    login = pwd.getpwnam(host.ssh.user).pw_uid
    for rel, text in workspace.rendered["host1"].files.items():
        pushed = host.config_dir / rel
        assert pushed.read_text() == text, rel
        assert pushed.stat().st_uid == login and stat.S_IMODE(pushed.stat().st_mode) == 0o600
    assert secret.stat().st_uid == login
    stored = tmp_path / ".fedi/secrets/apps/op1-mastodon/secret-key-base"
    assert secret.read_text() == stored.read_text()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700


def test_app_settings_without_nixos_options_run_once_each(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    from tests.deploy.conftest import set_value

    host = deploy_hosts()
    path = write_state(tmp_path, [host], apps=("mastodon", "peertube", "pixelfed"))
    assert apply(path)[0].outcome == "succeeded"
    mastodon = host.state / "mastodon"
    assert (mastodon / "registrations").read_text() == "approved\n"
    first = (mastodon / "calls").read_text().splitlines()
    # registrations, then the site title and description (no arguments), then the owner
    assert first[1] == "settings-script argc=0" and "registrations" in first[0]
    owner = (mastodon / "accounts" / "admin").read_text().splitlines()
    assert owner[:2] == ["accounts", "create"] and "Owner" in owner
    # PeerTube's and Pixelfed's admin scripts: no arguments (they read the password file)
    for app in ("peertube", "pixelfed"):
        assert (host.state / app / "calls").read_text() == "admin-script argc=0\n"
        password = host.secrets_dir / app / "admin-password"
        assert stat.S_IMODE(password.stat().st_mode) == 0o400
        assert len(password.read_text().strip()) == 64  # the generated secret
    set_value(path, "operators.op1.apps.mastodon.registration_mode", "closed")
    result, sink = apply(path)
    assert result.outcome == "succeeded"
    assert (mastodon / "registrations").read_text() == "close\n"
    calls = (mastodon / "calls").read_text().splitlines()
    assert sum("accounts create" in c for c in calls) == 1  # modified, not created again
    assert calls.count("settings-script argc=0") == 2  # saved again: idempotent
    assert "accounts modify admin" in calls[-1]
    for app in ("peertube", "pixelfed"):  # run again: they keep what exists
        assert (host.state / app / "calls").read_text() == "admin-script argc=0\n" * 2
        secret = (host.secrets_dir / app / "admin-password").read_text().strip()
        assert all(secret not in e.to_json() for e in sink.events)


def test_a_failing_site_settings_script_fails_that_machine_only(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    good, bad = deploy_hosts(), deploy_hosts()
    db = bad.state / "mastodon"
    db.mkdir(parents=True)
    (db / "settings-fail").touch()
    login = pwd.getpwnam(bad.ssh.user)
    for made in (db, db / "settings-fail"):  # the login user's, as the stand-in's own
        os.chown(made, login.pw_uid, login.pw_gid)
    path = write_state(tmp_path, [good, bad], apps=("mastodon",))
    result, sink = apply(path)
    assert result.machines == {"host1": "done", "host2": "failed"}, [
        e.message for e in sink.events if isinstance(e, StepFinished)
    ]
    message = next(
        e.message
        for e in sink.events
        if isinstance(e, StepFinished) and e.step == "health-check:host2"
    )
    assert "site title and description failed on" in message
    assert "fediversity-mastodon-settings" in message
    # it ran after the health check had passed, and the owner was not attempted after it
    calls = (bad.state / "mastodon" / "calls").read_text().splitlines()
    assert calls[-1] == "settings-script argc=0"
