"""What the sandbox started, by pid: records in its directory, and stopping by them.

Every process the sandbox starts is the leader of a session of its own
(``start_new_session``), recorded with its start time (``/proc/<pid>/stat``
field 22), so a record still names the same process after a crash: a pid that
is alive with another start time belongs to someone else and is never
signalled. Stopping a record signals its whole session (the per-connection
sshd processes too), and a session outlives its leader only as processes whose
session id is the recorded pid — Linux does not hand out that number again
while they exist, so they are found and stopped as well.

Records are JSON lines in ``processes.jsonl``, appended as processes start
(a crash loses none). Linux only (``/proc``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

RECORDS = "processes.jsonl"
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessRecord:
    """One process the sandbox started."""

    name: str
    """What it is: 'supervisor', 'moto', 'sshd nixos', 'sshd vm 11000', …"""
    pid: int
    started: int
    """Its start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    address: str = ""
    port: int = 0
    group: str = ""
    """The directory it was recorded in (the sandbox's provider); filled in when read."""

    @property
    def where(self) -> str:
        return f"{self.address}:{self.port}" if self.address else "-"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (index 0 is field 3)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    fields = _stat(pid)
    if fields is None or fields[0] == "Z":
        return None
    return int(fields[19])


def record_for(name: str, pid: int, address: str = "", port: int = 0) -> ProcessRecord:
    started = start_time(pid)
    if started is None:
        raise RuntimeError(f"{name} (pid {pid}) is gone already")
    return ProcessRecord(name, pid, started, address, port)


def append_record(directory: Path, record: ProcessRecord) -> None:
    data = asdict(record)
    del data["group"]
    line = json.dumps(data) + "\n"
    fd = os.open(directory / RECORDS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "a") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


def read_records(directory: Path) -> list[ProcessRecord]:
    """The records under *directory* (its own and its subdirectories'), oldest first."""
    found: list[ProcessRecord] = []
    for path in sorted(directory.rglob(RECORDS)):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, TypeError):
                found.append(ProcessRecord(**json.loads(line), group=path.parent.name))
    return found


def alive(record: ProcessRecord) -> bool:
    """The recorded process itself still runs (same pid, same start time)."""
    return start_time(record.pid) == record.started


def session_members(sid: int) -> list[int]:
    """Live processes whose session id is *sid*."""
    members: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def _ours(record: ProcessRecord) -> list[int]:
    """The processes of the record's session, or none if its pid now is someone else's."""
    now = start_time(record.pid)
    if now is not None and now != record.started:
        return []  # the pid was reused: not ours
    return session_members(record.pid)


def remaining(records: Iterable[ProcessRecord]) -> list[int]:
    """Every live process of the recorded sessions."""
    return sorted({pid for r in records for pid in _ours(r)})


def _signal_all(records: Iterable[ProcessRecord], sig: signal.Signals) -> None:
    for pid in remaining(records):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_records(records: list[ProcessRecord], *, grace: float = 5.0) -> list[int]:
    """SIGTERM every recorded session, SIGKILL what is left after *grace* seconds;
    return the pids still there afterwards (none, normally)."""
    _signal_all(records, signal.SIGTERM)
    if _wait_gone(records, grace):
        return []
    _signal_all(records, signal.SIGKILL)
    _wait_gone(records, 2.0)
    return remaining(records)


def _wait_gone(records: list[ProcessRecord], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        _reap()
        if not remaining(records):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _reap() -> None:
    """Collect exited children of this process (so they do not linger as zombies)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def listening_ports(pids: Iterable[int]) -> list[tuple[str, int]]:
    """The TCP sockets (address, port) in LISTEN state held by these processes."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in (PROC / str(pid) / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = str(fd.readlink())
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return [(a, p) for a, p, inode in tcp_listeners() if inode in inodes]


def tcp_listeners() -> list[tuple[str, int, str]]:
    """Every listening IPv4/IPv6 TCP socket of the machine: (address, port, inode)."""
    found: list[tuple[str, int, str]] = []
    for name in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / name).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] != "0A":  # LISTEN
                    continue
                hex_address, hex_port = parts[1].split(":")
                found.append((_address(hex_address), int(hex_port, 16), parts[9]))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ".".join(str(b) for b in reversed(raw))
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
    joined = b"".join(words)
    return str(ipaddress.IPv6Address(joined))
