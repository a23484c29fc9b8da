"""The engine against what the outside world does: failing builds, broken SSH, dead hosts.

Real OpenSSH sshd hosts (tests/fixtures/deployhosts.py); the nixos-rebuild
stand-in is told what to do by each test. Every outcome is checked on the
host too: which generation it runs, what was pushed.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from fedi_tui.core.deploy.events import LogLine, RunFinished, StepFinished, StepStarted
from fedi_tui.core.workspace import Workspace
from tests.deploy.conftest import HostFactory, set_value, write_state
from tests.deploy.engine_support import Collected, apply, make_engine

pytestmark = pytest.mark.real


def outcomes(sink: Collected) -> dict[str, str]:
    return {e.step: e.outcome for e in sink.events if isinstance(e, StepFinished)}


def messages(sink: Collected) -> dict[str, str]:
    return {e.step: e.message for e in sink.events if isinstance(e, StepFinished)}


def test_five_hosts_in_one_run(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    hosts = [deploy_hosts() for _ in range(5)]
    path = write_state(tmp_path, hosts)
    result, sink = apply(path, parallel=5)
    assert result.outcome == "succeeded", messages(sink)
    assert set(result.machines.values()) == {"done"}
    assert [h.generation() for h in hosts] == [1] * 5
    # preflight everywhere before any switch
    calls = [
        e.step for e in sink.events if isinstance(e, LogLine) and "fake-nixos-rebuild:" in e.text
    ]
    assert len(calls) == 10
    first_switch = next(
        n for n, e in enumerate(sink.events) if isinstance(e, LogLine) and "switch:" in e.text
    )
    dry_builds = [
        n for n, e in enumerate(sink.events) if isinstance(e, LogLine) and "dry-build:" in e.text
    ]
    assert max(dry_builds) < first_switch
    assert Workspace.open(path).plan().plan.empty


def test_preflight_failure_leaves_that_machine_untouched(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    good, bad = deploy_hosts(), deploy_hosts()
    bad.tell("fail-dry-build")
    path = write_state(tmp_path, [good, bad])
    result, sink = apply(path)
    assert result.machines == {"host1": "done", "host2": "failed"}
    assert result.outcome == "failed"
    assert bad.generation() == 0 and not any(i.startswith("switch") for i in bad.invocations())
    assert "preflight build failed" in messages(sink)["activate:host2"]
    assert outcomes(sink)["health-check:host2"] == "skipped"
    assert good.generation() == 1


def test_a_failed_switch_is_rolled_back(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    assert apply(path)[0].outcome == "succeeded"
    set_value(path, "operators.op1.apps.mastodon.registration_mode", "open")
    host.tell("fail-switch")
    result, _ = apply(path)
    assert result.outcome == "rolled-back"
    assert result.machines == {"host1": "rolled-back"}
    assert "switch --rollback" in host.invocations()[-1]
    assert host.generation() == 1  # switched to 2, then back
    recorded = Workspace.open(path)
    assert not recorded.plan().plan.empty  # the new configuration is still to be deployed
    assert '"open"' not in (recorded.recorded.machines["host1"].configuration or "")


@pytest.mark.slow
def test_health_that_never_passes_rolls_back(
    tmp_path: Path, deploy_hosts: HostFactory, health
) -> None:  # type: ignore[no-untyped-def]
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    assert apply(path)[0].outcome == "succeeded"
    set_value(path, "operators.op1.apps.mastodon.site_title", "New title")
    health.sick.add("mastodon.op1.test")
    result, sink = apply(path)
    assert result.machines == {"host1": "rolled-back"}
    assert "did not pass its health check" in messages(sink)["health-check:host1"]
    assert host.generation() == 1
    assert "switch --rollback" in host.invocations()[-1]


@pytest.mark.slow
def test_activation_that_breaks_ssh_reverts_by_itself(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    assert apply(path)[0].outcome == "succeeded"
    set_value(path, "operators.op1.apps.mastodon.registration_mode", "closed")
    host.tell("break-ssh")
    result, sink = apply(path)
    assert outcomes(sink)["activate:host1"] == "lost-contact"
    assert result.machines == {"host1": "rolled-back"}
    assert (
        "switched back to its previous configuration by itself" in messages(sink)["activate:host1"]
    )
    assert host.generation() == 1
    assert host.ssh.authorized_keys.exists()  # the guard's rollback gave the login back


def test_an_unknown_host_key_is_refused_and_nothing_is_pushed(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    text = path.read_text().replace(f'host_key = "{host.ssh.host_public_key}"\n', "")
    path.write_text(text)
    result, sink = apply(path)
    assert result.machines == {"host1": "failed"}
    assert "is unknown" in messages(sink)["push-config:host1"]
    assert not host.config_dir.exists() and not host.secrets_dir.exists()


def test_a_changed_host_key_is_refused(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host, other = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [host])
    text = path.read_text().replace(host.ssh.host_public_key, other.ssh.host_public_key)
    path.write_text(text)
    result, sink = apply(path)
    assert result.machines == {"host1": "failed"}
    assert "does not match the pinned host_key" in messages(sink)["push-config:host1"]
    assert not host.config_dir.exists()


def test_a_host_that_is_down_fails_alone(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    up, down = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [up, down])
    os.killpg(down.ssh.pid, signal.SIGTERM)
    result, sink = apply(path)
    assert result.machines == {"host1": "done", "host2": "failed"}
    assert "refused" in messages(sink)["push-config:host2"]


@pytest.mark.slow
def test_sshd_killed_mid_activation_fails_that_machine_only(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    path = write_state(
        tmp_path, [first, second], deploy={"activate_timeout": 10, "confirm_seconds": 5}
    )
    second.tell("hold-switch")
    sink = Collected()

    def kill_when_held(event: object) -> None:
        sink(event)  # type: ignore[arg-type]
        if isinstance(event, LogLine) and "holding for release-switch" in event.text:
            second.kill_sshd()

    import asyncio

    engine = make_engine(path, sink)
    engine._sink = kill_when_held
    result = asyncio.run(engine.run())
    assert result.machines["host1"] == "done"
    assert result.machines["host2"] == "failed"
    assert "lost contact" in messages(sink)["activate:host2"]


@pytest.mark.slow
def test_a_command_that_hangs_is_stopped_at_its_timeout(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    host = deploy_hosts()
    host.tell("hang-dry-build")
    path = write_state(tmp_path, [host], deploy={"activate_timeout": 10})
    result, sink = apply(path)
    assert result.machines == {"host1": "failed"}
    assert "did not finish within 10 s" in messages(sink)["activate:host1"]
    assert host.generation() == 0


def test_lines_reach_the_sink_while_the_command_still_runs(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    """The switch waits for a file the sink creates on seeing its line: only live lines pass."""
    host = deploy_hosts()
    host.tell("hold-switch")
    path = write_state(tmp_path, [host])
    sink = Collected()
    seen_while_running: list[int] = []

    def release(event: object) -> None:
        sink(event)  # type: ignore[arg-type]
        if isinstance(event, LogLine) and "holding for release-switch" in event.text:
            seen_while_running.append(host.generation())
            host.tell("release-switch")

    import asyncio

    engine = make_engine(path, sink)
    engine._sink = release
    result = asyncio.run(engine.run())
    assert result.outcome == "succeeded"
    assert seen_while_running == [0]  # the switch had not happened when the line arrived
    lines = [e.text for e in sink.events if isinstance(e, LogLine) and e.step == "activate:host1"]
    assert lines.index("holding for release-switch") < lines.index(
        "activating the configuration..."
    )


def test_no_secret_in_events_logs_records_or_messages(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    host = deploy_hosts()
    host.tell("fail-dry-build")  # an error message too
    path = write_state(tmp_path, [host], apps=("mastodon", "peertube", "pixelfed"))
    result, sink = apply(path)
    host.forget("fail-dry-build")
    result2, sink2 = apply(path)
    assert result2.outcome == "succeeded"
    from fedi_tui.core.deploy.secretstore import SecretStore

    values = SecretStore(tmp_path / ".fedi").all_values()
    assert values
    haystacks = [e.to_json() for e in sink.events + sink2.events]
    haystacks += [p.read_text() for p in (tmp_path / ".fedi").glob("*.json")]
    haystacks += [json.dumps(result.messages), json.dumps(result2.messages)]
    haystacks += [p.read_text() for p in host.config_dir.rglob("*") if p.is_file()]
    for value in values:
        assert not any(value in h for h in haystacks), value[:4]
    # and the secrets did reach the machine, readable only by its owner
    pushed = {
        p.read_text()
        for p in host.secrets_dir.rglob("*")
        if p.is_file() and p.name != ".fedi-tui-managed"
    }
    assert any(v in text for v in values for text in pushed)
    assert all(
        (p.stat().st_mode & 0o777) == 0o400
        for p in host.secrets_dir.rglob("*")
        if p.is_file() and p.name != ".fedi-tui-managed"
    )


def test_a_second_run_changes_nothing(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    apply(path)
    secrets_before = {
        p: p.read_text() for p in (tmp_path / ".fedi/secrets").rglob("*") if p.is_file()
    }
    result, sink = apply(path)
    assert not sink.of(StepStarted)
    assert result.outcome == "succeeded"
    assert host.generation() == 1
    after = {p: p.read_text() for p in (tmp_path / ".fedi/secrets").rglob("*") if p.is_file()}
    assert after == secrets_before


def test_parallel_one_never_waits_forever_at_the_preflight_barrier(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    """With one slot and three machines, each lane gives its slot back at the barrier."""
    hosts = [deploy_hosts() for _ in range(3)]
    path = write_state(tmp_path, hosts)
    result, sink = apply(path, parallel=1)
    assert result.outcome == "succeeded", messages(sink)
    switches = [
        n for n, e in enumerate(sink.events) if isinstance(e, LogLine) and "switch:" in e.text
    ]
    builds = [
        n for n, e in enumerate(sink.events) if isinstance(e, LogLine) and "dry-build:" in e.text
    ]
    assert len(switches) == len(builds) == 3 and max(builds) < min(switches)


def test_one_machine_with_what_it_needs(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    from fedi_tui.core.deploy.lanes import select_machine
    from fedi_tui.core.deploy.steps.base import Desired

    hosts = [deploy_hosts(), deploy_hosts()]
    path = write_state(tmp_path, hosts)
    workspace = Workspace.open(path)
    planned = workspace.plan()
    desired = Desired(planned.config, planned.rendered, workspace.spec, workspace.modules)
    chosen = select_machine(planned.plan.steps, "host2", desired, workspace.recorded)
    assert {s.id for s in chosen} == {
        "generate-secrets:op2-mastodon",
        "push-config:host2",
        "activate:host2",
        "health-check:host2",
    }


def test_a_host_without_its_hardware_configuration_is_not_switched(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    host = deploy_hosts()
    host.hardware_configuration.unlink()
    path = write_state(tmp_path, [host])
    result, sink = apply(path)
    assert result.machines == {"host1": "failed"}
    assert f"has no {host.hardware_configuration}" in messages(sink)["activate:host1"]
    assert host.invocations() == []


def test_an_unexpected_error_still_ends_in_an_outcome(
    tmp_path: Path, deploy_hosts: HostFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a step (not the outside world) fails that machine with a clear message;
    the run still finishes and records its end."""
    from fedi_tui.core.deploy.steps.health import HealthCheck

    async def broken(self: object, ctx: object) -> object:
        raise ZeroDivisionError("division by zero")

    good, bad = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [good, bad])
    monkeypatch.setattr(HealthCheck, "execute", broken)
    result, sink = apply(path)
    assert result.outcome == "failed"
    assert set(result.machines.values()) == {"failed"}
    assert (
        "internal error in health-check (ZeroDivisionError" in messages(sink)["health-check:host2"]
    )
    assert sink.of(RunFinished)
