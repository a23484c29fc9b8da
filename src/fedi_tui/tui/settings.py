"""The user's TUI settings: `<XDG config>/fedi-tui/tui.toml` (theme, read_only).

    theme = "fedi-dark"     # remembered when changed from the palette
    read_only = true        # every session is read-only, as with --read-only

fedi-tui writes only the keys it remembers (the theme) and keeps the others,
and any comments, as they are. An unreadable file counts as empty: settings are
never worth refusing to start.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.userdirs import user_dirs

HEADER = "# fedi-tui settings (theme is written by fedi-tui; read_only = true for support staff)"


def settings_path() -> Path:
    return user_dirs().config / "tui.toml"


def read_settings() -> dict[str, Any]:
    try:
        return tomllib.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def setting_read_only() -> bool:
    """`read_only = true` in the settings (anything else, or no file: False)."""
    return read_settings().get("read_only") is True


def remember_setting(key: str, value: str | bool) -> None:
    """Store one setting, keeping the file's other keys and comments; a failure to write
    is not worth an error."""
    path = settings_path()
    try:
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = tomlkit.document()
            doc.add(tomlkit.comment(HEADER.removeprefix("# ")))
        doc[key] = value
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, tomlkit.dumps(doc).encode("utf-8"))
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError):
        pass
