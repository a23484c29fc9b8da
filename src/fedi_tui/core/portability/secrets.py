"""An app instance's generated secrets in a backup: one owner-only JSON file.

It holds the instance's secret files (as the state directory's secret store keeps
them) and the secret of each of its storage keys, so a restored or migrated app
keeps its sessions, signing keys and S3 credentials. The file is written 0600 in
a 0700 directory and never shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.instances import InstanceData


@dataclass(frozen=True)
class SecretsBundle:
    files: dict[str, SecretStr]
    """Secret file name → content (`<secrets dir>/<app>/<name>` on the machine)."""
    keys: dict[str, SecretStr]
    """Storage key name → its secret access key."""

    def values(self) -> list[str]:
        return [v.get_secret_value() for v in (*self.files.values(), *self.keys.values())]


def collect(store: SecretStore, inst: InstanceData) -> SecretsBundle:
    files = store.app_files(inst.key)
    keys: dict[str, SecretStr] = {}
    for bucket in inst.buckets:
        secret = store.key_secret(bucket.key_name)
        if secret is not None:
            keys[bucket.key_name] = secret
    return SecretsBundle(files, keys)


def write_bundle(path: Path, bundle: SecretsBundle) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "files": {k: v.get_secret_value() for k, v in sorted(bundle.files.items())},
        "keys": {k: v.get_secret_value() for k, v in sorted(bundle.keys.items())},
    }
    write_atomic(path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)


def read_bundle(path: Path) -> SecretsBundle:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {str(k): SecretStr(str(v)) for k, v in data["files"].items()}
        keys = {str(k): SecretStr(str(v)) for k, v in data["keys"].items()}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        raise FediError(f"{path}: not a fedi-tui secrets file; the backup is damaged") from None
    return SecretsBundle(files, keys)


def restore_bundle(store: SecretStore, inst: InstanceData, bundle: SecretsBundle) -> None:
    """Put the instance's secrets back into the state directory (replacing what is there)."""
    store.replace_app_files(inst.key, bundle.files)
    for name, secret in bundle.keys.items():
        store.put_key_secret(name, secret)
