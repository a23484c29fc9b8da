"""Machines that act like NixOS hosts: real OpenSSH sshd with NixOS's tools stood in for.

Each :class:`DeployHost` is an sshd (:mod:`fedi_tui.sandbox.sshd`) logging in
as the fast test user, with a private directory tree standing in for the
machine's file system and, first on the session's PATH (sshd ``SetEnv``):

* ``nixos-rebuild`` — ``bin/nixos-rebuild`` beside this module: parses (and with
  the NixOS module tree, evaluates) what was pushed, keeps NixOS-like system
  generations, and fails, hangs, runs slowly or breaks SSH logins when told so
  (:meth:`DeployHost.tell`);
* ``mastodon-tootctl`` — keeps the settings fedi-tui makes (registrations, the admin
  account) the way the real one would;
* ``fediversity-mastodon-settings``, ``fediversity-peertube-admin`` and
  ``fediversity-pixelfed-admin`` (the modules' own scripts) — record that they ran, and
  their argument count;

and ``curl`` (the real one) reaching :class:`HealthServer`, an HTTP server on
127.0.0.1 that answers each app's health URL (by Host header) with 200, or
with 503 for the domains made sick.

The sandbox's machines and the engine tests' deploy hosts are both made here;
the runtime a state file needs comes from :meth:`DeployHost.runtime`. A host
started with ``mount_at`` sees its own tree at that path (its sshd runs in a
mount namespace of its own), so several machines of one runtime share the
runtime's deploy paths, each with its own files — as separate VMs would.
Loopback only: hosts listen on 127.0.0.N, the health server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import pwd
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedi_tui.sandbox.sshd import FAST_USER, SshHost, running_sshd

HERE = Path(__file__).resolve().parent
FAKE_REBUILD = HERE / "bin" / "nixos-rebuild"
HARDWARE = HERE / "data" / "hardware-configuration.nix"
"""What a host imports to boot: its file systems and boot loader (a stand-in)."""

FAKE_TOOTCTL = r"""#!/bin/sh
# mastodon-tootctl stand-in: keeps what tootctl would store, in $FAKE_NIXOS_STATE/mastodon
db=${FAKE_NIXOS_STATE:?}/mastodon
mkdir -p "$db/accounts"
echo "tootctl $*" >> "$db/calls"
case "$1 $2" in
  "settings registrations")
    case $3 in open|approved|close) echo "$3" > "$db/registrations"; echo "OK" ;;
      *) echo "unknown mode $3" >&2; exit 1 ;; esac ;;
  "accounts create")
    [ -e "$db/accounts/$3" ] && { echo "Failure/Error: username: taken" >&2; exit 1; }
    printf '%s\n' "$@" > "$db/accounts/$3"
    echo "OK"
    echo "New password: 3c0a9f1e2b7d4c6a8e5f0b1d2c3a4f5e" ;;
  "accounts modify")
    [ -e "$db/accounts/$3" ] || { echo "No user with such username" >&2; exit 1; }
    printf '%s\n' "$@" >> "$db/accounts/$3"
    echo "OK" ;;
  *) echo "tootctl stand-in: unsupported: $*" >&2; exit 1 ;;
esac
"""

FAKE_MASTODON_SETTINGS = r"""#!/bin/sh
# fediversity-mastodon-settings stand-in: the real one saves the configuration's title and
# description with `rails runner`; this records that it ran and with how many arguments
# (none: nothing, secret or not, travels on argv), and fails when `settings-fail` exists
db=${FAKE_NIXOS_STATE:?}/mastodon
mkdir -p "$db"
echo "settings-script argc=$#" >> "$db/calls"
[ -e "$db/settings-fail" ] && { echo "Validation failed: site title" >&2; exit 1; }
echo "OK"
"""

FAKE_ADMIN_SCRIPT = r"""#!/bin/sh
# fediversity-peertube-admin / fediversity-pixelfed-admin stand-in: the real ones make the
# configuration's admin account (PeerTube's REST API, Pixelfed's user:create in tinker);
# this one records that it ran and with how many arguments (none: the password is read
# from a file on the machine, never passed), and fails when `admin-fail` exists
app=${0##*/fediversity-}
app=${app%-admin}
db=${FAKE_NIXOS_STATE:?}/$app
mkdir -p "$db"
echo "admin-script argc=$#" >> "$db/calls"
[ -e "$db/admin-fail" ] && { echo "$app: the admin account could not be made" >&2; exit 1; }
if [ -e "$db/admin" ]; then echo "admin account exists"; exit 0; fi
: > "$db/admin"
echo "created admin account"
"""


class HealthServer:
    """HTTP on 127.0.0.1: 200 for every Host, 503 for those in `sick`."""

    def __init__(self) -> None:
        self.sick: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                outer.requests.append((host, self.path))
                status = 503 if host in outer.sick else 200
                body = b"sick\n" if status == 503 else b"ok\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class DeployHost:
    """A running deploy target (see the module docstring)."""

    ssh: SshHost
    root: Path
    """Stands in for the machine's `/`: the runtime's deploy paths point below it."""
    health_port: int
    files: dict[str, str] = field(default_factory=dict)
    view: Path | None = None
    """Where the host's own sessions see `root` (its `mount_at`); None: at `root` itself."""

    def seen(self, path: Path) -> Path:
        """*path* (below `root`) as the host's own sessions see it."""
        return path if self.view is None else self.view / path.relative_to(self.root)

    @property
    def state(self) -> Path:
        """$FAKE_NIXOS_STATE: generations, the system profile, control files, call logs."""
        return self.root / "state"

    @property
    def config_dir(self) -> Path:
        return self.root / "etc/nixos/fedi-tui"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "var/lib/fediversity/secrets"

    @property
    def run_dir(self) -> Path:
        return self.root / "run/fedi-tui"

    @property
    def hardware_configuration(self) -> Path:
        """The host's own hardware configuration (a stand-in), which it imports."""
        return self.root / "etc/nixos/hardware-configuration.nix"

    @property
    def profile(self) -> Path:
        return self.state / "nix/var/nix/profiles/system"

    def generation(self) -> int:
        """The system generation the profile points at (0 before the first switch)."""
        try:
            return int(self.profile.readlink().name.split("-")[1])
        except FileNotFoundError:
            return 0

    def invocations(self) -> list[str]:
        path = self.state / "invocations"
        return path.read_text().splitlines() if path.exists() else []

    def tell(self, wish: str, value: str = "") -> None:
        """Make nixos-rebuild fail-<action>, hang-<action>, go slow, or break-ssh."""
        control = self.state / "control"
        control.mkdir(parents=True, exist_ok=True)
        (control / wish).write_text(value)
        _chown_tree(control, self.ssh.user)

    def kill_sshd(self) -> None:
        """SIGKILL the host's sshd and the processes serving its connections (a crash).

        The per-connection sshd processes rename themselves, so they are found as
        the listener's descendants named sshd; the users' commands live on.
        """
        parents: dict[int, int] = {}
        names: dict[int, str] = {}
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text()
                except OSError:
                    continue
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                parents[int(proc.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
                names[int(proc.name)] = name
        doomed = {self.ssh.pid}
        grew = True
        while grew:
            more = {p for p, parent in parents.items() if parent in doomed and names[p] == "sshd"}
            grew = not more <= doomed
            doomed |= more
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def forget(self, wish: str) -> None:
        (self.state / "control" / wish).unlink(missing_ok=True)

    def deploy_settings(self, **deploy: Any) -> dict[str, Any]:
        """The `deploy` table that points a runtime at this host's directories and tools."""
        return deploy_settings(self.view or self.root, self.health_port, **deploy)

    def runtime(self, **deploy: Any) -> dict[str, Any]:
        """A `nixos` runtime table for fedi.toml reaching this host, strict host key pinned."""
        settings = self.deploy_settings(**deploy)
        return {
            "kind": "nixos",
            "host": self.ssh.address,
            "port": self.ssh.port,
            "host_key": self.ssh.host_public_key,
            "ssh": {"user": self.ssh.user, "key": str(self.ssh.client_key)},
            "system": {"base_modules": [str(self.seen(self.hardware_configuration))]},
            "deploy": settings,
        }


def deploy_settings(root: Path, health_port: int, **deploy: Any) -> dict[str, Any]:
    """The `deploy` table for machines whose own sessions see their tree at *root*."""
    settings: dict[str, Any] = {
        "config_dir": str(root / "etc/nixos/fedi-tui"),
        "secrets_dir": str(root / "var/lib/fediversity/secrets"),
        "run_dir": str(root / "run/fedi-tui"),
        "system_profile": str(root / "state/nix/var/nix/profiles/system"),
        "guard": "background",
        "confirm_seconds": 5,
        "activate_timeout": 60,
        "health_timeout": 5,
        "command_timeout": 30,
        "connect_timeout": 5,
        "health": [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "5",
            "-H",
            "Host: {domain}",
            f"http://127.0.0.1:{health_port}{{path}}",
        ],
    }
    return settings | deploy


def hardware_path(root: Path) -> Path:
    """The hardware configuration a machine whose tree is seen at *root* imports."""
    return root / "etc/nixos/hardware-configuration.nix"


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _tree(root: Path, hardware: Path, tools: dict[str, Path]) -> None:
    """The machine's file system: its tools, state directory and hardware configuration."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "nixos-rebuild").symlink_to(FAKE_REBUILD)
    for name, target in tools.items():
        (bin_dir / name).symlink_to(target)
    for name, script in (
        ("mastodon-tootctl", FAKE_TOOTCTL),
        ("fediversity-mastodon-settings", FAKE_MASTODON_SETTINGS),
        ("fediversity-peertube-admin", FAKE_ADMIN_SCRIPT),
        ("fediversity-pixelfed-admin", FAKE_ADMIN_SCRIPT),
    ):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    (root / "state").mkdir()
    (root / "etc/nixos").mkdir(parents=True)
    shutil.copyfile(hardware, root / "etc/nixos/hardware-configuration.nix")


def _own_mount(root: Path, mount_at: Path) -> list[str]:
    """A command prefix giving sshd a mount namespace where *mount_at* shows *root*."""
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        str(root),
        str(mount_at),
    ]


@contextlib.contextmanager
def running_deploy_host(
    directory: Path,
    *,
    address: str,
    health: HealthServer,
    tree: Path | None = None,
    port: int | None = None,
    client_key: Path | None = None,
    base: Path | None = None,
    mount_at: Path | None = None,
    hardware: Path = HARDWARE,
    tools: dict[str, Path] | None = None,
) -> Iterator[DeployHost]:
    """Start one deploy host on `address` (127.0.0.N); `tree` switches on NixOS evaluation.

    `port` and `client_key` go to :func:`running_sshd` (a VM: port 22, the runtime's key).
    The machine's tree and its authorized_keys live in `base` (kept afterwards; else in
    temporary directories, removed). With `mount_at` (an empty directory; needs root),
    the host's sessions see its tree there. `tools` are more programs on its PATH
    (name → file), `hardware` the hardware configuration it imports.
    """
    if base is not None:  # kept: a machine that starts again has its files (its disk)
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        root, keys = base / "root", base / "keys"
        root.mkdir(exist_ok=True)
        keys.mkdir(exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="fedi-host-"))
        keys = Path(tempfile.mkdtemp(prefix="fedi-host-keys-"))
    root.chmod(0o755)
    keys.chmod(0o755)
    view = mount_at or root
    try:
        if not (root / "state").exists():
            _tree(root, hardware, tools or {})
        environment = [
            f"PATH={view / 'bin'}:/usr/bin:/bin",
            f"FAKE_NIXOS_STATE={view / 'state'}",
            f"FAKE_NIXOS_AUTHORIZED_KEYS={keys / 'authorized_keys'}",
        ]
        if tree is not None:
            environment.append(f"FAKE_NIXOS_TREE={tree}")
        try:
            with running_sshd(
                directory,
                address=address,
                user=FAST_USER,
                extra_config=[f"SetEnv {' '.join(environment)}"],
                keys_dir=keys,
                port=port,
                client_key=client_key,
                wrap=_own_mount(root, mount_at) if mount_at is not None else (),
            ) as ssh:
                _chown_tree(keys, FAST_USER)
                _chown_tree(root, FAST_USER)
                yield DeployHost(ssh, root, health.port, view=mount_at)
        finally:
            if base is None:
                shutil.rmtree(keys, ignore_errors=True)
    finally:
        if base is None:
            shutil.rmtree(root, ignore_errors=True)
