"""Where the data files shipped with fedi-tui are: NixOS modules and themes.

An installed wheel carries them inside the package (`_nix/`, `_themes/`); a
source checkout has them at the top of the repository (`nix/`, `themes/`).
"""

from __future__ import annotations

from pathlib import Path

from fedi_tui.core.errors import FediError

_PACKAGE = Path(__file__).resolve().parents[1]
_CHECKOUT = Path(__file__).resolve().parents[3]


def nix_modules_dir() -> Path:
    """The fediversity NixOS modules shipped with fedi-tui."""
    for base in (_PACKAGE / "_nix", _CHECKOUT / "nix"):
        candidate = base / "modules" / "fediversity"
        if (candidate / "default.nix").is_file():
            return candidate
    raise FediError("the fediversity NixOS modules were not found next to fedi-tui; reinstall it")


def themes_dir() -> Path:
    """The shipped TUI themes (TOML files)."""
    for candidate in (_PACKAGE / "_themes", _CHECKOUT / "themes"):
        if candidate.is_dir():
            return candidate
    raise FediError("the fedi-tui themes were not found next to fedi-tui; reinstall it")
