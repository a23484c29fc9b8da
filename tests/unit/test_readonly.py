"""Read-only in the core: with it on, every write path refuses and nothing changes on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.core import readonly
from fedi_tui.core.deploy.ports import Ports
from fedi_tui.core.deploy.recorded import RecordedState, save_recorded
from fedi_tui.core.deploy.runner import DeploymentRun
from fedi_tui.core.readonly import ReadOnlyRefused, enter_read_only
from fedi_tui.core.state.file import load_state, save_state, update_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.workspace import Workspace


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readonly, "_read_only", False)
    enter_read_only()


def _no_ports() -> Ports:
    async def close() -> None:
        return None

    def nothing(name: str) -> object:
        raise AssertionError(f"no adapter may be made in read-only mode ({name})")

    return Ports(
        machines=nothing,  # type: ignore[arg-type]
        storage=nothing,  # type: ignore[arg-type]
        objects=nothing,  # type: ignore[arg-type]
        hypervisors=nothing,  # type: ignore[arg-type]
        close=close,
    )


def test_the_state_file_is_not_saved(read_only: None, demo_copy: Path) -> None:
    before = demo_copy.read_bytes()
    loaded = load_state(demo_copy)  # reading works
    edit = Edit(("provider", "name"), "Changed")
    with pytest.raises(ReadOnlyRefused, match="read-only session: refused to save"):
        save_state(loaded, [edit])
    with pytest.raises(ReadOnlyRefused):
        update_state(demo_copy, lambda _loaded: [edit])
    assert demo_copy.read_bytes() == before
    assert not demo_copy.with_name("fedi.toml.bak").exists()


def test_the_recorded_state_is_not_written(read_only: None, tmp_path: Path) -> None:
    with pytest.raises(ReadOnlyRefused, match="recorded state"):
        save_recorded(tmp_path / ".fedi", RecordedState())
    assert not (tmp_path / ".fedi").exists()


def test_no_deployment_starts(read_only: None, demo_copy: Path) -> None:
    workspace = Workspace.open(demo_copy)  # so is planning
    planned = workspace.plan()
    assert not planned.plan.empty
    run = DeploymentRun(workspace, planned, _no_ports(), sinks=[])
    with pytest.raises(ReadOnlyRefused, match="run a deployment"), run:
        pass
    assert not workspace.state_dir.exists()  # no lock, no log, no history


def test_writes_work_when_not_read_only(monkeypatch: pytest.MonkeyPatch, demo_copy: Path) -> None:
    monkeypatch.setattr(readonly, "_read_only", False)
    saved = save_state(load_state(demo_copy), [Edit(("provider", "name"), "Changed")])
    assert saved.spec.provider.name == "Changed"
