"""Killed in the middle of a save: the file is the old or the new version, never half.

A child process saves the demo over and over (each time a new value) and is
SIGKILLed at a random moment. After every kill the file must be byte-for-byte
one of the versions a complete save produces, the backup must load too, and
the next save must work: no stale lock, no leftover that gets in the way.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fedi_tui.core.state.file import LoadedState, load_state, save_state, update_state
from fedi_tui.core.state.tomledit import Edit
from tests.paths import DEMO

KEY = ("operators", "coop", "apps", "mastodon", "site_description")
PLACEHOLDER = "@@VALUE@@"


def _versions(tmp_path: Path) -> tuple[bytes, str]:
    """The original bytes, and the text of a completed save with PLACEHOLDER as the value."""
    scratch = tmp_path / "scratch" / "fedi.toml"
    scratch.parent.mkdir()
    shutil.copyfile(DEMO, scratch)
    saved = save_state(load_state(scratch), [Edit(KEY, PLACEHOLDER)])
    return DEMO.read_bytes(), saved.text


def _value(loaded: LoadedState) -> str | None:
    node = loaded.data
    for part in KEY:
        if part not in node:
            return None
        node = node[part]
    assert isinstance(node, str)
    return node


def _check_whole(path: Path, original: bytes, template: str) -> str | None:
    """The file loads and is exactly the original or a complete save; returns the value."""
    loaded = load_state(path)
    value = _value(loaded)
    if value is None:
        assert path.read_bytes() == original
    else:
        assert re.fullmatch(r"v\d+", value), value
        assert loaded.text == template.replace(PLACEHOLDER, value)
    return value


def _save_forever(path: str, start: int) -> None:
    """Child: save a new value again and again until killed."""
    for n in itertools.count(start):
        edits = [Edit(KEY, f"v{n}")]
        update_state(Path(path), functools.partial(_constant, edits), lock_timeout=30)


def _constant(edits: list[Edit], _loaded: LoadedState) -> list[Edit]:
    return edits


@pytest.mark.slow
def test_sigkill_during_api_saves_leaves_a_whole_file(tmp_path: Path) -> None:
    original, template = _versions(tmp_path)
    path = tmp_path / "fedi.toml"
    path.write_bytes(original)
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    fork = multiprocessing.get_context("fork")  # no interpreter start-up: kills land in saves
    seen: set[str | None] = set()
    for iteration in range(30):
        child = fork.Process(target=_save_forever, args=(str(path), iteration * 10_000))
        child.start()
        time.sleep(rng.uniform(0.005, 0.12))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL, f"the saver died by itself (seed {seed})"

        seen.add(_check_whole(path, original, template))
        backup = path.with_name("fedi.toml.bak")
        if backup.exists():
            _check_whole(backup, original, template)
        # the parent can take the lock and save at once: nothing stale in the way
        started = time.monotonic()
        update_state(path, lambda _loaded: [], lock_timeout=2)
        assert time.monotonic() - started < 1.5
    assert len(seen) > 5, f"the children hardly ever finished a save: {seen} (seed {seed})"
    # leftovers of interrupted writes do not break a real save afterwards
    update_state(path, lambda _loaded: [Edit(KEY, "v-final")], lock_timeout=2)
    assert _value(load_state(path)) == "v-final"


def _fedi_tui() -> list[str]:
    script = Path(sys.executable).with_name("fedi-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fedi_tui"]


@pytest.mark.slow
def test_sigkill_during_cli_set_leaves_a_whole_file(tmp_path: Path) -> None:
    original, template = _versions(tmp_path)
    path = tmp_path / "fedi.toml"
    path.write_bytes(original)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    # the child sets values in a loop, so a kill can land anywhere in a run of the command
    loop = (
        f"for n in $(seq {{start}} {{end}}); do "
        f"{shlex.join(_fedi_tui())} -s {shlex.quote(str(path))} set {'.'.join(KEY)} "
        f'"\\"v$n\\"" >/dev/null || exit 3; done'
    )
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    for iteration in range(8):
        script = loop.format(start=iteration * 100, end=iteration * 100 + 99)
        before = path.stat().st_mtime_ns
        child = subprocess.Popen(["sh", "-c", script], env=env, start_new_session=True)
        # let at least one set land first (a slow machine may need seconds to start the
        # command), then kill at a random moment of the runs that follow
        while path.stat().st_mtime_ns == before and child.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        os.killpg(child.pid, signal.SIGKILL)  # the shell and the fedi-tui it runs
        assert child.wait(10) == -signal.SIGKILL, f"the loop stopped by itself (seed {seed})"
        _check_whole(path, original, template)
        update_state(path, lambda _loaded: [], lock_timeout=2)
    assert _value(load_state(path)) is not None, "no fedi-tui set ever completed"
