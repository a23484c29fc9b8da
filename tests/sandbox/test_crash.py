"""A crashed sandbox (its processes killed, or only a stale directory left) is cleaned up by
the next `up` or `down` — by recorded pid, and never a process that merely reuses one."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from fedi_tui.sandbox.layout import MARKER, machines_dir
from fedi_tui.sandbox.records import (
    ProcessRecord,
    alive,
    append_record,
    read_records,
    remaining,
    start_time,
)
from tests.sandbox.conftest import sandbox, start

pytestmark = [pytest.mark.real, pytest.mark.slow]


def test_killed_supervisors_leave_orphans_that_the_next_up_and_down_stop(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "sbx"
    start(directory)
    try:
        first = read_records(directory)
        for record in first:
            if record.name == "supervisor":
                os.kill(record.pid, signal.SIGKILL)  # a crash: the servers it started live on
        orphans = [r for r in first if r.name != "supervisor"]
        assert orphans and all(alive(r) for r in orphans)
        shown = sandbox("status", "--dir", str(directory))
        assert shown.returncode == 0 and "dead" in shown.stdout, shown.stdout

        start(directory)  # cleans the dead one first
        assert not remaining(first)
        second = read_records(directory)
        assert {r.pid for r in second}.isdisjoint({r.pid for r in first})
        assert all(alive(r) for r in second)
    finally:
        done = sandbox("down", "--dir", str(directory))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not directory.exists() and not machines_dir(directory).exists()


def test_a_stale_directory_is_removed_without_touching_a_reused_pid(tmp_path: Path) -> None:
    directory = tmp_path / "sbx"
    (directory / "a").mkdir(parents=True)
    (directory / MARKER).write_text(json.dumps({"made_by": "fedi-tui sandbox up"}))
    me = os.getpid()
    started = start_time(me)
    assert started is not None
    # a record whose pid now belongs to someone else (this test): another start time
    append_record(directory / "a", ProcessRecord("supervisor", me, started - 1, "127.0.0.1", 1))
    (machines_dir(directory) / "a").mkdir(parents=True, exist_ok=True)

    done = sandbox("down", "--dir", str(directory))
    assert done.returncode == 0, done.stdout + done.stderr
    assert start_time(me) == started  # still here
    assert not directory.exists() and not machines_dir(directory).exists()


def test_down_refuses_a_directory_that_is_not_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    done = sandbox("down", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert "is not a sandbox" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "precious.txt").exists()
