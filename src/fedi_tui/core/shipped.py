"""Where the data files shipped with fedi-tui are: NixOS modules and themes.

A source checkout (or an editable install) has them at the top of the
repository (`nix/`, `themes/`); an installed wheel puts them under
`<prefix>/share/fedi-tui/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fedi_tui.core.errors import FediError

_CHECKOUT = Path(__file__).resolve().parents[3]
_SHARE = Path(sys.prefix) / "share" / "fedi-tui"


def nix_modules_dir() -> Path:
    """The fediversity NixOS modules shipped with fedi-tui."""
    for base in (_CHECKOUT / "nix", _SHARE / "nix"):
        candidate = base / "modules" / "fediversity"
        if (candidate / "default.nix").is_file():
            return candidate
    raise FediError("the fediversity NixOS modules were not found next to fedi-tui; reinstall it")


def themes_dir() -> Path:
    """The shipped TUI themes (TOML files)."""
    for candidate in (_CHECKOUT / "themes", _SHARE / "themes"):
        if candidate.is_dir():
            return candidate
    raise FediError("the fedi-tui themes were not found next to fedi-tui; reinstall it")
