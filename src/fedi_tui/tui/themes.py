"""Themes as data: TOML files in themes/ made into `textual.theme.Theme`; the choice kept."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.theme import Theme

from fedi_tui.core.errors import FediError
from fedi_tui.core.shipped import themes_dir
from fedi_tui.tui.settings import read_settings, remember_setting

DEFAULT_THEME = "fedi-dark"
HIGH_CONTRAST = "fedi-high-contrast"
_KEYS = {f.name for f in fields(Theme)}


def theme_from_data(data: dict[str, Any], where: str) -> Theme:
    unknown = sorted(set(data) - _KEYS)
    if unknown or "name" not in data or "primary" not in data:
        problem = f"unknown keys {', '.join(unknown)}" if unknown else "needs name and primary"
        raise FediError(f"{where}: not a theme ({problem}); keys: {', '.join(sorted(_KEYS))}")
    return Theme(**data)


def load_themes(directory: Path | None = None) -> list[Theme]:
    """Every *.toml theme in the directory (default: the shipped themes), by file name."""
    out = []
    for path in sorted((directory or themes_dir()).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FediError(f"{path}: cannot read theme: {exc}") from None
        out.append(theme_from_data(data, str(path)))
    return out


def remembered_theme() -> str | None:
    theme = read_settings().get("theme")
    return theme if isinstance(theme, str) else None


def remember_theme(name: str) -> None:
    """Store the choice for the next start (the settings file's other keys are kept)."""
    remember_setting("theme", name)
