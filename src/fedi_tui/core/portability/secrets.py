"""An app instance's generated secrets in a backup: one owner-only JSON file.

It holds the instance's secret files (as the state directory's secret store keeps
them) and, per storage key, its id and secret, so a restored app keeps its
sessions, signing keys and S3 credentials. The file is written 0600 in a 0700
directory and never shown.

A restore into a deployment whose storage key was re-created since the backup
(say, after the storage was lost and apply made new keys) keeps the current key:
its secret stays, and the S3 credentials inside the app's secret files are
rewritten to it, while every other secret (session keys, signing keys, passwords)
comes back from the backup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.instances import InstanceData

S3_VARIABLES = ("AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")


@dataclass(frozen=True)
class SavedKey:
    access_key_id: str | None
    secret: SecretStr


@dataclass(frozen=True)
class SecretsBundle:
    files: dict[str, SecretStr]
    """Secret file name → content (`<secrets dir>/<app>/<name>` on the machine)."""
    keys: dict[str, SavedKey]
    """Storage key name → its id and secret access key."""

    def values(self) -> list[str]:
        return [
            v.get_secret_value()
            for v in (*self.files.values(), *(k.secret for k in self.keys.values()))
        ]


def with_key(text: str, access_key_id: str, secret: str) -> str:
    """An env file with its S3 credentials replaced by this key's (other lines kept)."""
    kept = "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith(S3_VARIABLES)
    )
    if kept and not kept.endswith("\n"):
        kept += "\n"
    return kept + f"{S3_VARIABLES[0]}{access_key_id}\n{S3_VARIABLES[1]}{secret}\n"


def collect(
    store: SecretStore, inst: InstanceData, key_ids: Mapping[str, str | None]
) -> SecretsBundle:
    """The instance's secrets; `key_ids`: storage key name → its recorded id."""
    files = store.app_files(inst.key)
    keys: dict[str, SavedKey] = {}
    for bucket in inst.buckets:
        secret = store.key_secret(bucket.key_name)
        if secret is not None:
            keys[bucket.key_name] = SavedKey(key_ids.get(bucket.key_name), secret)
    return SecretsBundle(files, keys)


def write_bundle(path: Path, bundle: SecretsBundle) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "files": {k: v.get_secret_value() for k, v in sorted(bundle.files.items())},
        "keys": {
            k: {"access_key_id": v.access_key_id, "secret": v.secret.get_secret_value()}
            for k, v in sorted(bundle.keys.items())
        },
    }
    write_atomic(path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)


def read_bundle(path: Path) -> SecretsBundle:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {str(k): SecretStr(str(v)) for k, v in data["files"].items()}
        keys = {
            str(k): SavedKey(
                None if v["access_key_id"] is None else str(v["access_key_id"]),
                SecretStr(str(v["secret"])),
            )
            for k, v in data["keys"].items()
        }
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        raise FediError(f"{path}: not a fedi-tui secrets file; the backup is damaged") from None
    return SecretsBundle(files, keys)


def restore_bundle(
    store: SecretStore,
    inst: InstanceData,
    bundle: SecretsBundle,
    key_ids: Mapping[str, str | None],
) -> list[str]:
    """Put the instance's secrets back into the state directory (replacing what is there).

    `key_ids`: storage key name → the id recorded now. A key re-created since the backup
    keeps its current secret, and the S3 credentials in the app's files follow it. Returns
    what was done differently, for the log.
    """
    notes: list[str] = []
    files = dict(bundle.files)
    for name, saved in bundle.keys.items():
        current = key_ids.get(name)
        if current is None or current == saved.access_key_id:
            store.put_key_secret(name, saved.secret)
            continue
        secret = store.key_secret(name)
        if secret is None:
            raise FediError(
                f"{inst.key}: storage key {name} was re-created since the backup "
                f"({saved.access_key_id} → {current}) and its secret is not in the state "
                "directory; run `fedi-tui apply` for the operator, then restore again"
            )
        if name == inst.key:  # the app's own key: its credentials are in the app's files
            for need in inst.instance.requirements.secrets:
                if need.kind != "random" and need.name in files:
                    text = files[need.name].get_secret_value()
                    files[need.name] = SecretStr(with_key(text, current, secret.get_secret_value()))
        notes.append(
            f"storage key {name} was re-created since the backup ({saved.access_key_id} → "
            f"{current}): the current key is kept and the app's S3 credentials point at it"
        )
    store.replace_app_files(inst.key, files)
    return notes
