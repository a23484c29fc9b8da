"""`fedi-tui apply`, `undeploy`, `logs`, `history` through the real command, on sshd hosts.

Interruption is real too: SIGINT and SIGKILL to the running command, then the
next apply must finish exactly what is left.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fedi_tui.core.deploy.history import load_index
from fedi_tui.core.workspace import Workspace
from tests.deploy.conftest import HostFactory, set_value, write_state

pytestmark = pytest.mark.real


def fedi(path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedi_tui", "-s", str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start(path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fedi_tui", "-s", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def wait_for_line(log_dir: Path, text: str, proc: subprocess.Popen[str]) -> None:
    """Until a deployment log under `log_dir` holds `text` (the run is where the test wants)."""
    while True:
        for log in log_dir.glob("*.jsonl"):
            if text in log.read_text():
                return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"apply ended first ({proc.returncode}): {out}\n{err}")
        time.sleep(0.05)


@pytest.mark.slow
def test_apply_five_hosts_then_logs_and_history(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    hosts = [deploy_hosts() for _ in range(5)]
    path = write_state(tmp_path, hosts)
    done = fedi(path, "apply", "--yes", "--no-diff")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Plan: 5 to create" in done.stdout
    for n in range(1, 6):
        assert f"[host{n}]" in done.stdout
        assert re.search(rf"^  host{n} +done +[0-9a-f]{{12}}", done.stdout, re.M)
    assert fedi(path, "plan").returncode == 0  # nothing left
    assert fedi(path, "apply", "--yes").stdout.startswith("No changes")

    logs = fedi(path, "logs", "last", "--machine", "host3", "--grep", "switch:")
    assert logs.returncode == 0
    lines = logs.stdout.splitlines()
    assert lines and all("host3" in line and "switch:" in line for line in lines)
    inverted = fedi(path, "logs", "--machine", "host3", "--grep", "switch:", "--invert").stdout
    assert "switch:" not in inverted and "host3" in inverted
    errors = fedi(path, "logs", "--level", "error").stdout
    assert errors == ""

    history = fedi(path, "history")
    assert "succeeded" in history.stdout and "5 to create" in history.stdout
    runs = json.loads(fedi(path, "history", "--json").stdout)
    assert len(runs) == 1 and set(runs[0]["machines"]) == {f"host{n}" for n in range(1, 6)}
    assert all(m["state"] == "done" and m["config_hash"] for m in runs[0]["machines"].values())


def test_apply_without_a_terminal_needs_yes(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    done = fedi(path, "apply")
    assert done.returncode == 1
    assert "give --yes" in done.stderr
    assert not host.config_dir.exists()


def test_a_rolled_back_machine_exits_3(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    assert fedi(path, "apply", "--yes").returncode == 0
    set_value(path, "operators.op1.apps.mastodon.registration_mode", "open")
    host.tell("fail-switch")
    done = fedi(path, "apply", "--yes")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "rolled-back" in done.stdout
    assert "switched back to the previous configuration" in done.stdout


def test_preflight_only_switches_nothing(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    path = write_state(tmp_path, [host])
    done = fedi(path, "apply", "--yes", "--preflight-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert host.invocations() == [f"dry-build {host.config_dir}/configuration.nix"]
    assert host.generation() == 0
    host.tell("fail-dry-build")
    assert fedi(path, "apply", "--yes", "--preflight-only").returncode == 1


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_apply_finishes(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    second.tell("hold-dry-build")
    path = write_state(tmp_path, [first, second])
    proc = start(path, "apply", "--yes")
    wait_for_line(tmp_path / ".fedi" / "deployments", "holding for release-dry-build", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err
    assert not _running(second.root)  # the remote build was stopped, not orphaned
    run = load_index(tmp_path / ".fedi").deployments[-1]
    assert run.outcome == "interrupted"
    assert first.generation() == 0  # host1 waited for host2's preflight: nothing switched
    second.forget("hold-dry-build")
    again = fedi(path, "apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "generate-secrets" not in again.stdout  # done before the interruption
    assert Workspace.open(path).plan().plan.empty
    assert first.generation() == second.generation() == 1


@pytest.mark.slow
def test_kill_9_mid_run_then_apply_finishes_the_rest(
    tmp_path: Path, deploy_hosts: HostFactory
) -> None:
    first, second = deploy_hosts(), deploy_hosts()
    second.tell("hold-dry-build")
    path = write_state(tmp_path, [first, second])
    proc = start(path, "apply", "--yes")
    wait_for_line(tmp_path / ".fedi" / "deployments", "holding for release-dry-build", proc)
    proc.kill()
    proc.communicate(timeout=30)
    second.tell("release-dry-build")
    left = Workspace.open(path).plan().plan
    assert {s.kind for s in left.steps} == {"push-config", "activate", "health-check"}
    assert "killed" in fedi(path, "history").stdout
    again = fedi(path, "apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert Workspace.open(path).plan().plan.empty
    assert first.generation() == second.generation() == 1


@pytest.mark.slow
def test_a_second_apply_refuses_while_one_runs(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host = deploy_hosts()
    host.tell("hold-dry-build")
    path = write_state(tmp_path, [host])
    proc = start(path, "apply", "--yes")
    try:
        wait_for_line(tmp_path / ".fedi" / "deployments", "holding for release-dry-build", proc)
        second = fedi(path, "apply", "--yes")
        assert second.returncode == 1
        assert "another deployment is running" in second.stderr
        assert f"pid {proc.pid}" in second.stderr
        follow = start(path, "logs", "--follow")
        time.sleep(0.2)
        host.tell("release-dry-build")
        out, _ = follow.communicate(timeout=60)
        assert "deployment" in out and "succeeded" in out.splitlines()[-1]
    finally:
        host.tell("release-dry-build")
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def _running(root: Path) -> bool:
    """Whether any process still works in a host's tree (its nixos-rebuild, say)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if str(root).encode() in (proc / "environ").read_bytes():
                    cmd = (proc / "cmdline").read_bytes()
                    if b"nixos-rebuild" in cmd or b"sleep" in cmd:
                        return True
            except OSError:
                continue
    return False
