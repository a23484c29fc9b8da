"""An advisory lock beside the state file that says who holds it, present only while held."""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fedi_tui.core.errors import FediError, LockHeld

_held: dict[Path, int] = {}
_guard = threading.RLock()


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    since = datetime.now(UTC).isoformat(timespec="seconds")
    return json.dumps(
        {"pid": os.getpid(), "user": user, "host": socket.gethostname(), "since": since}
    )


def _describe_holder(lock: Path) -> str:
    try:
        info = json.loads(lock.read_text(encoding="utf-8"))
        return f"pid {info['pid']}, user {info['user']} on {info['host']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (no details recorded)"


@contextmanager
def state_lock(path: Path, timeout: float = 5.0) -> Iterator[None]:
    """Hold the lock for `path`; re-entrant within a process.

    Waits while others take their turn, but refuses (LockHeld) when one holder
    keeps it for `timeout` seconds: the time limit is per holder, not for the
    whole queue, so twenty writers at once all land however slow the machine is.

    The lock file exists only while someone holds it: the holder removes it
    before unlocking. A waiter that was blocked on a file removed that way
    finds, once it gets the lock, that the path no longer names the file it
    locked, and tries again on the new one.
    """
    key = path.resolve()
    with _guard:
        if _held.get(key):
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        lock = lock_path(path)
        fd = _acquire(path, lock, timeout)
        try:
            os.ftruncate(fd, 0)  # a holder that was killed leaves its details behind
            os.pwrite(fd, _holder().encode(), 0)
            _held[key] = 1
            try:
                yield
            finally:
                _held.pop(key, None)
                # remove the file while still holding it: nobody can lock it in between
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _acquire(path: Path, lock: Path, timeout: float) -> int:
    """An open, flocked descriptor of the file that is at `lock` now.

    Gives up when the same holder has kept the lock for `timeout` seconds.
    """
    holder = _holder_of(lock)
    deadline = time.monotonic() + timeout
    while True:
        fd = _open(path, lock)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    now = _holder_of(lock)
                    if now != holder:  # the lock changed hands: the queue moves
                        holder, deadline = now, time.monotonic() + timeout
                    elif time.monotonic() >= deadline:
                        raise LockHeld(
                            f"{path} is being changed by {_describe_holder(lock)}; "
                            f"try again when it is done (lock file {lock})"
                        ) from None
                    time.sleep(0.02)
            if _same_file(fd, lock):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder we waited for removed it: lock the current one


def _holder_of(lock: Path) -> tuple[int, bytes] | None:
    """Which lock file is there and what its holder wrote: changes when it changes hands."""
    try:
        with lock.open("rb") as f:
            return os.fstat(f.fileno()).st_ino, f.read(512)
    except OSError:
        return None


def _open(path: Path, lock: Path) -> int:
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        raise FediError(f"{path.parent}: no such directory; check the --state path") from None
    except PermissionError:
        raise FediError(f"{lock}: permission denied; cannot lock the state file") from None
    except OSError as exc:
        raise FediError(
            f"{lock}: cannot open the lock file ({exc.strerror}); "
            "remove it if it is not a regular file"
        ) from None


def _same_file(fd: int, lock: Path) -> bool:
    try:
        there = lock.lstat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)
