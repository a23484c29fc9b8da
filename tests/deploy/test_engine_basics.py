"""The engine on real sshd hosts: a first apply deploys, a second changes nothing."""

from __future__ import annotations

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
    assert Workspace.open(path).plan().plan.empty
    assert any(isinstance(e, LogLine) and "parsed" in e.text for e in sink.events)
