"""Starting, stopping and looking at a sandbox: what `fedi-tui sandbox up|down|status` do.

`up` makes the directory (:mod:`fedi_tui.sandbox.layout`), generates the
secrets and fedi-tui's login key, starts one supervisor per provider
(:mod:`fedi_tui.sandbox.supervisor`) in a session of its own, waits until
each says what it serves, and writes the state files. `down` stops every
recorded process (the supervisors first, so they stop their machines in
order; then whatever is left, by pid and session), checks that none is left,
and removes the directory. A sandbox whose processes died (a crash, a reboot)
is cleaned up the same way by the next `up` or `down`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from fedi_tui.core.errors import FediError
from fedi_tui.sandbox.layout import (
    MARKER,
    PROVIDERS,
    ProviderDir,
    machines_dir,
    provider_dirs,
)
from fedi_tui.sandbox.records import (
    ProcessRecord,
    alive,
    append_record,
    listening_ports,
    read_records,
    record_for,
    remaining,
    stop_records,
)
from fedi_tui.sandbox.statefile import render

READY_TIMEOUT = 90.0
NEEDED = {
    "/usr/sbin/sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    "nix-instantiate": "nix-bin",
    "curl": "curl",
    "unshare": "util-linux",
}


@dataclass(frozen=True)
class Status:
    directory: Path
    records: list[ProcessRecord]
    state_files: list[Path]
    services: list[tuple[str, str, str]]
    """(provider, what, where) of the servers inside the supervisors: Proxmox, Garage…"""

    def alive(self) -> list[ProcessRecord]:
        return [r for r in self.records if alive(r)]

    @property
    def running(self) -> bool:
        return any(r.name == "supervisor" and alive(r) for r in self.records)


def _is_sandbox(directory: Path) -> bool:
    return (directory / MARKER).is_file()


def _check_dir(directory: Path) -> None:
    if directory.exists() and not _is_sandbox(directory) and any(directory.iterdir()):
        raise FediError(
            f"{directory} exists and is not a sandbox (no {MARKER} in it); "
            "give another --dir, or remove it yourself"
        )


def status(directory: Path) -> Status:
    files = [p.state_file for p in provider_dirs(directory) if p.state_file.exists()]
    records = read_records(directory) if directory.exists() else []
    return Status(directory, records, files, _services(directory))


def _services(directory: Path) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for where in provider_dirs(directory):
        try:
            ready = json.loads(where.ready.read_text())
        except (OSError, ValueError):
            continue
        found += [
            (where.name, "Proxmox VE API (fakepve)", ready["pve"]["url"]),
            (where.name, "Garage admin API", ready["garage"]["admin_endpoint"]),
            (where.name, "Garage S3 (moto)", ready["garage"]["s3_endpoint"]),
            (where.name, "health endpoints", f"http://127.0.0.1:{ready['health_port']}"),
            (where.name, "VM network", ready["vms"]["pool"]),
        ]
    return found


def check_tools() -> None:
    """Refuse clearly where the sandbox cannot run (it needs root and a few programs)."""
    missing = [
        f"{tool} (apt install {package})"
        for tool, package in NEEDED.items()
        if shutil.which(tool) is None and not Path(tool).is_file()
    ]
    if missing:
        raise FediError(f"the sandbox needs {', '.join(missing)}; `bash .ci/setup` installs them")
    modules = [m for m in ("fakepve", "moto", "openapi_core") if find_spec(m) is None]
    if modules:
        raise FediError(
            f"the sandbox needs the Python packages {', '.join(modules)}: "
            "pip install 'fedi-tui[sandbox]' (`bash .ci/setup` does)"
        )
    if os.geteuid() != 0:
        raise FediError(
            "the sandbox needs root: its VMs listen on port 22 of loopback addresses, "
            "log in as their own user and each get a mount namespace; run it as root "
            "(e.g. in a container or a throw-away VM)"
        )


def _keygen(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fedi-tui sandbox", "-f", str(path)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )


def _write_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(24) + "\n")


def _spawn(where: ProviderDir) -> ProcessRecord:
    where.root.mkdir(parents=True, exist_ok=True)
    where.machines.mkdir(parents=True, exist_ok=True)
    where.machines.parent.chmod(0o755)
    _write_secret(where.pve_token)
    _write_secret(where.garage_token)
    _keygen(where.ssh_key)
    with where.log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fedi_tui.sandbox.supervisor", str(where.root)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=where.root,
        )
    record = record_for("supervisor", proc.pid)
    append_record(where.root, record)
    return record


def _wait_ready(where: ProviderDir, supervisor: ProcessRecord) -> dict[str, object]:
    deadline = time.monotonic() + READY_TIMEOUT
    while not where.ready.exists():
        if not alive(supervisor):
            tail = "\n".join(where.log.read_text(errors="replace").splitlines()[-15:])
            raise FediError(
                f"the sandbox's provider {where.name} did not start (log: {where.log}):\n{tail}"
            )
        if time.monotonic() > deadline:
            raise FediError(
                f"the sandbox's provider {where.name} was not ready after "
                f"{READY_TIMEOUT:.0f} s; see {where.log}"
            )
        time.sleep(0.1)
    data: dict[str, object] = json.loads(where.ready.read_text())
    return data


def up(directory: Path) -> Status:
    """Start a sandbox in *directory* (cleaning up a dead one there first)."""
    directory = directory.expanduser().resolve()
    _check_dir(directory)
    before = status(directory)
    if before.running:
        raise FediError(
            f"a sandbox is already running in {directory}; `fedi-tui sandbox status` shows "
            "it, `fedi-tui sandbox down` stops it"
        )
    check_tools()
    if directory.exists():
        clean(directory)
    machines = machines_dir(directory)
    if machines.exists():
        clean(directory)
    directory.mkdir(parents=True, mode=0o700)
    machines.mkdir(mode=0o755)  # tempfile's /tmp is shared: made by us now, or we fail here
    machines.chmod(0o755)
    marker = {"made_by": "fedi-tui sandbox up", "providers": list(PROVIDERS)}
    (directory / MARKER).write_text(json.dumps(marker) + "\n")
    try:
        started = [(where, _spawn(where)) for where in provider_dirs(directory)]
        for where, supervisor in started:
            ready = _wait_ready(where, supervisor)
            where.state_file.write_text(render(where, ready))
            where.state_file.chmod(0o644)
    except BaseException:
        clean(directory)
        raise
    return status(directory)


def clean(directory: Path) -> list[int]:
    """Stop every recorded process (supervisors first), remove the directory; return the
    pids that would not stop (none, normally: then the directory is kept)."""
    records = read_records(directory)
    supervisors = [r for r in records if r.name == "supervisor"]
    stop_records(supervisors, grace=15.0)  # they stop their machines and servers in order
    left = stop_records(records, grace=5.0)
    if left:
        return left
    shutil.rmtree(directory, ignore_errors=True)
    machines = machines_dir(directory)
    if machines.exists() and machines.stat().st_uid == os.geteuid():
        shutil.rmtree(machines, ignore_errors=True)
    return []


def down(directory: Path) -> tuple[list[ProcessRecord], list[int]]:
    """Stop the sandbox in *directory*; return what was recorded and what would not stop."""
    directory = directory.expanduser().resolve()
    if not directory.exists():
        if machines_dir(directory).exists():  # a crash half-way through `down`
            clean(directory)
        return [], []
    if not _is_sandbox(directory):
        raise FediError(f"{directory} is not a sandbox (no {MARKER} in it); nothing stopped")
    records = read_records(directory)
    left = clean(directory)
    if left:
        raise FediError(
            f"these processes of the sandbox would not stop: {', '.join(map(str, left))}; "
            f"{directory} is kept"
        )
    return records, []


def listening(records: list[ProcessRecord]) -> list[tuple[str, int]]:
    """The TCP ports the recorded processes (and their sessions) listen on."""
    return listening_ports(remaining(records))
