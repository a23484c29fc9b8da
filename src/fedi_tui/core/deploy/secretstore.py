"""Generated secrets, kept in the state directory: owner-only, written once, never shown.

Layout (directories 0700, files 0600)::

    <state dir>/secrets/apps/<operator>-<app>/<file>   what the app reads on its machine
    <state dir>/secrets/keys/<key name>                the S3 secret key of a storage key

A value is generated once and then only read: re-running apply never makes a
new one (rotation is an explicit command). Values are `SecretStr`, and the
store can list every value it holds so the engine can redact them from output.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.errors import FediError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _safe(name: str) -> str:
    if not _NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"not a safe secret name: {name!r}")
    return name


class SecretStore:
    """The secrets directory of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "secrets"

    def _dir(self, *parts: str) -> Path:
        return self.root.joinpath(*(_safe(p) for p in parts))

    def _ensure(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for d in (directory, *directory.parents):
            if d == self.root.parent:
                break
            if d.stat().st_mode & 0o077:
                d.chmod(0o700)

    def _read(self, path: Path) -> SecretStr | None:
        try:
            return SecretStr(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise FediError(f"{path}: cannot read the secret file ({exc}); restore it") from None

    def _write(self, path: Path, value: SecretStr) -> None:
        self._ensure(path.parent)
        write_atomic(path, value.get_secret_value().encode("utf-8"), mode=0o600)

    # --- app instances --------------------------------------------------------------

    def app_files(self, instance: str) -> dict[str, SecretStr]:
        """Every secret file of an app instance, by file name ({} if none yet)."""
        directory = self._dir("apps", instance)
        if not directory.is_dir():
            return {}
        out: dict[str, SecretStr] = {}
        for path in sorted(directory.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                value = self._read(path)
                if value is not None:
                    out[path.name] = value
        return out

    def add_app_files(self, instance: str, files: Mapping[str, SecretStr]) -> list[str]:
        """Store the files that do not exist yet; returns the names written."""
        directory = self._dir("apps", instance)
        written = []
        for name, value in sorted(files.items()):
            path = directory / _safe(name)
            if path.exists():
                continue
            self._write(path, value)
            written.append(name)
        return written

    def replace_app_files(self, instance: str, files: Mapping[str, SecretStr]) -> list[str]:
        """Write these files whether they exist or not (a restore from a backup); returns the
        names written. Other files of the instance are left alone."""
        directory = self._dir("apps", instance)
        for name, value in sorted(files.items()):
            self._write(directory / _safe(name), value)
        return sorted(files)

    def remove_app(self, instance: str) -> None:
        shutil.rmtree(self._dir("apps", instance), ignore_errors=True)

    # --- storage keys -----------------------------------------------------------------

    def key_secret(self, key_name: str) -> SecretStr | None:
        return self._read(self._dir("keys") / _safe(key_name))

    def put_key_secret(self, key_name: str, secret: SecretStr) -> None:
        """Store a storage key's secret at once (it is returned only when the key is made)."""
        self._write(self._dir("keys") / _safe(key_name), secret)

    def remove_key(self, key_name: str) -> None:
        (self._dir("keys") / _safe(key_name)).unlink(missing_ok=True)

    # --- redaction ----------------------------------------------------------------------

    def all_values(self) -> list[str]:
        """Every secret value held (and each line of multi-line ones), for redaction."""
        values: set[str] = set()
        if not self.root.is_dir():
            return []
        for path in self.root.rglob("*"):
            if path.is_file():
                value = self._read(path)
                if value is not None:
                    values |= secret_fragments(value.get_secret_value())
        return sorted(values)


def secret_fragments(text: str) -> set[str]:
    """The parts of a secret worth redacting: each line, or each `NAME=value` value.

    Values of variables named `…_ID` (an access key id) are identifiers, not secrets.
    """
    parts: set[str] = set()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep or " " in name:
            parts.add(line)
        elif not name.endswith("_ID"):
            parts.add(value.strip())
    if len(lines) == 1 and "=" not in lines[0]:
        parts.add(text.strip())
    return {p for p in parts if len(p) >= 8}
