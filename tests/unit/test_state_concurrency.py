"""Several writers: changes are serialized by the lock, none is lost, none overwrites another.

- 20 processes `fedi-tui set` 20 different keys at once: all 20 values are there after.
- A writer that cannot get the lock waits briefly, then fails naming the holder.
- A save refuses (StateConflict) when the file changed on disk since it was loaded.
- After a save, `.bak` holds the previous version.
"""

from __future__ import annotations

import getpass
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from fedi_tui.core.errors import FediError, LockHeld, StateConflict
from fedi_tui.core.state.file import load_state, save_state, update_state
from fedi_tui.core.state.lock import state_lock
from fedi_tui.core.state.tomledit import Edit
from tests.paths import DEMO

APPS = [
    ("coop", "mastodon"),
    ("coop", "peertube"),
    ("coop", "pixelfed"),
    ("photoclub", "pixelfed"),
    ("school", "peertube"),
    ("school", "mastodon"),
]
KEYS = [
    "provider.name",
    "operators.coop.name",
    "operators.photoclub.name",
    "operators.school.name",
    *[f"operators.{op}.apps.{app}.site_title" for op, app in APPS],
    *[f"operators.{op}.apps.{app}.site_description" for op, app in APPS],
    "runtimes.pve-a.bridge",
    "runtimes.pve-a.storage",
    "runtimes.bare-1.host",
    "storage.garage-a.region",
]


def _get(data: dict[str, object], dotted: str) -> object:
    """The value at a dotted key, None where the file does not set it."""
    node: object = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _fedi_tui() -> list[str]:
    script = Path(sys.executable).with_name("fedi-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fedi_tui"]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "fedi.toml"
    shutil.copyfile(DEMO, path)
    return path


# --- many writers at once ----------------------------------------------------------


@pytest.mark.slow
def test_twenty_concurrent_sets_all_land(state: Path, tmp_path: Path) -> None:
    assert len(set(KEYS)) == 20
    original = load_state(state).data
    for key in KEYS:  # each value is new, so a lost update would show
        assert _get(original, key) != f"concurrent-{KEYS.index(key):02d}"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    children = [
        subprocess.Popen(
            [*_fedi_tui(), "-s", str(state), "set", key, f'"concurrent-{n:02d}"'],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, key in enumerate(KEYS)
    ]
    for n, child in enumerate(children):
        _out, err = child.communicate(timeout=120)
        assert child.returncode == 0, f"{KEYS[n]}: {err}"
        assert "Traceback" not in err
    data = load_state(state).data
    assert {key: _get(data, key) for key in KEYS} == {
        key: f"concurrent-{n:02d}" for n, key in enumerate(KEYS)
    }
    # nothing else changed: the comments are all still there
    before = [line for line in DEMO.read_text().splitlines() if line.startswith("#")]
    after = [line for line in state.read_text().splitlines() if line.startswith("#")]
    assert after == before


def _update_in_child(path: str, key: str, value: str) -> None:
    edits = [Edit(tuple(key.split(".")), value)]
    update_state(Path(path), lambda _loaded: edits, lock_timeout=60)


@pytest.mark.slow
def test_twenty_concurrent_api_updates_all_land(state: Path) -> None:
    """The same through `update_state` in forked processes: the lock, not start-up jitter."""
    fork = multiprocessing.get_context("fork")
    children = [
        fork.Process(target=_update_in_child, args=(str(state), key, f"api-{n:02d}"))
        for n, key in enumerate(KEYS)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    data = load_state(state).data
    assert [_get(data, key) for key in KEYS] == [f"api-{n:02d}" for n in range(20)]


# --- the lock is held ----------------------------------------------------------------


def _hold_lock(path: str, ready: Event, release: Event) -> None:
    with state_lock(Path(path), timeout=5):
        ready.set()
        release.wait(60)


@contextmanager
def _lock_held_elsewhere(path: Path) -> Iterator[int]:
    """Another process holds the state lock; yields its pid."""
    fork = multiprocessing.get_context("fork")
    ready, release = fork.Event(), fork.Event()
    child = fork.Process(target=_hold_lock, args=(str(path), ready, release))
    child.start()
    try:
        assert ready.wait(10), "the child did not get the lock"
        assert child.pid is not None
        yield child.pid
    finally:
        release.set()
        child.join(10)
    assert child.exitcode == 0


def test_second_writer_waits_then_names_the_holder(state: Path) -> None:
    before = state.read_bytes()
    with _lock_held_elsewhere(state) as pid:
        started = time.monotonic()
        loaded = load_state(state)  # reading needs no lock
        with pytest.raises(LockHeld) as exc:
            save_state(loaded, [Edit(("provider", "name"), "Blocked")], lock_timeout=0.5)
        waited = time.monotonic() - started
        message = str(exc.value)
        with pytest.raises(LockHeld):
            update_state(state, lambda _loaded: [], lock_timeout=0.2)
    assert 0.5 <= waited < 3, waited
    assert f"pid {pid}" in message
    assert f"user {getpass.getuser()}" in message
    assert f"on {socket.gethostname()}" in message
    since = datetime.fromisoformat(message.split("since ")[1].split(";")[0])
    assert abs((datetime.now(UTC) - since).total_seconds()) < 60
    assert str(state) in message
    assert state.read_bytes() == before
    # the holder is gone: the same save now goes through
    save_state(loaded, [Edit(("provider", "name"), "Unblocked")], lock_timeout=0.5)
    assert load_state(state).data["provider"]["name"] == "Unblocked"


def test_lock_is_released_after_a_failed_save(state: Path) -> None:
    """An error inside the lock does not leave it held."""
    loaded = load_state(state)
    with pytest.raises(FediError):
        save_state(loaded, [Edit(("provider", "domain"), "NOT A DOMAIN")], lock_timeout=0.2)
    state.write_text(state.read_text() + "\n")
    with pytest.raises(StateConflict):
        save_state(loaded, [Edit(("provider", "name"), "x")], lock_timeout=0.2)
    update_state(state, lambda _loaded: [Edit(("provider", "name"), "after")], lock_timeout=0.2)
    assert load_state(state).data["provider"]["name"] == "after"


@pytest.mark.slow
def test_cli_set_while_locked_fails_naming_the_holder(state: Path, tmp_path: Path) -> None:
    before = state.read_bytes()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    with _lock_held_elsewhere(state) as pid:
        started = time.monotonic()
        done = subprocess.run(
            [*_fedi_tui(), "-s", str(state), "set", "provider.name", '"Blocked"'],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"pid {pid}, user {getpass.getuser()} on {socket.gethostname()}, since " in done.stderr
    assert waited >= 5  # the command's lock wait
    assert state.read_bytes() == before


# --- the file changed since it was loaded ---------------------------------------------


def test_save_refuses_when_file_changed_on_disk(state: Path) -> None:
    mine = load_state(state)
    theirs = load_state(state)
    save_state(theirs, [Edit(("provider", "name"), "Their Hosting")])
    after_theirs = state.read_bytes()
    backup = state.with_name("fedi.toml.bak").read_bytes()

    with pytest.raises(StateConflict) as exc:
        save_state(mine, [Edit(("provider", "name"), "My Hosting")])
    assert "nothing was written" in str(exc.value)
    assert state.read_bytes() == after_theirs
    assert state.with_name("fedi.toml.bak").read_bytes() == backup
    assert [p.name for p in state.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_save_refuses_after_an_edit_by_hand(state: Path) -> None:
    loaded = load_state(state)
    by_hand = state.read_text().replace("Demo Hosting", "Hand Edited")
    state.write_text(by_hand)
    with pytest.raises(StateConflict):
        save_state(loaded, [Edit(("provider", "contact"), "other@demo-hosting.test")])
    assert state.read_text() == by_hand
    assert not state.with_name("fedi.toml.bak").exists()


def test_save_refuses_when_file_was_deleted(state: Path) -> None:
    loaded = load_state(state)
    state.unlink()
    with pytest.raises(FediError):
        save_state(loaded, [Edit(("provider", "name"), "x")])
    assert not state.exists()


def test_backup_holds_the_previous_version(state: Path) -> None:
    v0 = state.read_bytes()
    first = save_state(load_state(state), [Edit(("provider", "name"), "One")])
    assert state.with_name("fedi.toml.bak").read_bytes() == v0
    v1 = state.read_bytes()
    assert v1 != v0
    save_state(first, [Edit(("provider", "name"), "Two")])  # the returned state is current
    assert state.with_name("fedi.toml.bak").read_bytes() == v1
    assert load_state(state).data["provider"]["name"] == "Two"


def _hand_on(path: str, ready: Event) -> None:
    """Hold the lock file as a queue of five holders would: each writes its own record."""
    import fcntl
    import json

    lock = Path(path + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    for n in range(5):
        os.ftruncate(fd, 0)
        record = {"pid": 40000 + n, "user": "u", "host": "h", "since": f"t{n}"}
        os.pwrite(fd, json.dumps(record).encode(), 0)
        ready.set()
        time.sleep(0.3)
    lock.unlink()
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def test_the_lock_timeout_is_per_holder_not_for_the_whole_queue(tmp_path: Path) -> None:
    """Five holders of 0.3 s each, one after the other: a waiter with a 0.5 s limit waits
    for all of them, because the lock keeps changing hands (a limit on the whole queue
    made twenty concurrent `set`s fail on a busy machine)."""
    path = tmp_path / "fedi.toml"
    path.write_text("schema = 1\n")
    fork = multiprocessing.get_context("fork")
    ready = fork.Event()
    queue = fork.Process(target=_hand_on, args=(str(path), ready))
    queue.start()
    try:
        assert ready.wait(10)
        with state_lock(path, timeout=0.5):  # LockHeld here with a limit on the queue
            pass
    finally:
        queue.join(30)
    assert queue.exitcode == 0


def test_one_holder_that_keeps_the_lock_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "fedi.toml"
    path.write_text("schema = 1\n")
    with (
        _lock_held_elsewhere(path) as pid,
        pytest.raises(LockHeld, match=f"pid {pid}"),
        state_lock(path, timeout=0.5),
    ):
        pass
