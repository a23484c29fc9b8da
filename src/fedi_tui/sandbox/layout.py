"""Where the sandbox keeps things: one directory, one subdirectory per provider.

::

    DIR/sandbox.json            what made the directory (so `down` removes only a sandbox)
    DIR/a/fedi.toml             provider a's state file (provider.sandbox = true)
    DIR/a/.fedi/                its state directory: known_hosts (pinned host keys), logs…
    DIR/a/secrets/              generated secrets, owner-only files (mode 0600)
    DIR/a/keys/fedi_ed25519     fedi-tui's login key for the provider's machines
    DIR/a/tls/                  the CAs and certificates of its Proxmox and Garage
    DIR/a/processes.jsonl       every process started for it, by pid
    DIR/a/ready.json            what its supervisor serves, once it does
    DIR/a/supervisor.log        the supervisor's own log
    DIR/b/…                     provider b (the target for trying migration)

    $TMPDIR/fedi-sandbox-<hash of DIR>/a/machines/   the machines' files (the NixOS
                                host, one per VM) and vm-root/, where each VM's own
                                sessions see its files

The machines log in as a user of their own, who must reach their files; those
live under the temporary directory (open to every user to pass through), so
DIR itself can stay private (it holds the secrets) wherever it is.

Addresses: provider *n* (a = 1, b = 2) gives its VMs 127.0.3n.10–40 (port 22,
like real VMs) and runs its NixOS host on 127.0.4n.2; its servers listen on
127.0.0.1. Loopback only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.userdirs import user_dirs

PROVIDERS = ("a", "b")
MARKER = "sandbox.json"
SSH_KEY = "fedi_ed25519"


def default_dir() -> Path:
    """`$FEDI_SANDBOX_DIR`, else the user's state directory's `sandbox/`."""
    given = os.environ.get("FEDI_SANDBOX_DIR")
    return Path(given).expanduser() if given else user_dirs().state / "sandbox"


@dataclass(frozen=True)
class ProviderDir:
    """The files of one sandbox provider."""

    root: Path
    name: str

    @property
    def index(self) -> int:
        return PROVIDERS.index(self.name) + 1

    @property
    def state_file(self) -> Path:
        return self.root / "fedi.toml"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def pve_token(self) -> Path:
        return self.secrets / "pve-token"

    @property
    def garage_token(self) -> Path:
        return self.secrets / "garage-admin-token"

    @property
    def ssh_key(self) -> Path:
        return self.root / "keys" / SSH_KEY

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def ready(self) -> Path:
        return self.root / "ready.json"

    @property
    def log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def machines(self) -> Path:
        return machines_dir(self.root.parent) / self.name / "machines"

    @property
    def vm_root(self) -> Path:
        return machines_dir(self.root.parent) / self.name / "vm-root"

    @property
    def vm_net(self) -> str:
        return f"127.0.{30 + self.index}"

    @property
    def nixos_address(self) -> str:
        return f"127.0.{40 + self.index}.2"


def machines_dir(directory: Path) -> Path:
    """Where the machines of the sandbox in *directory* keep their files (see above)."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"fedi-sandbox-{digest}"


def provider_dirs(directory: Path) -> list[ProviderDir]:
    return [ProviderDir(directory / name, name) for name in PROVIDERS]
