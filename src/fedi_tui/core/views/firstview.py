"""The first-view cache: the dashboard's view model of a state file, kept so the next
start draws it at once, before the state is read and validated (stdlib only: nothing
slow to import is on this path).

    $XDG_CACHE_HOME/fedi-tui/firstview/<sha256 of the state file's path>.json

It holds the view and a key: a sha256 of the state file's bytes, `.fedi/recorded.json`
and `.fedi/deployments/index.json` beside it. A different key, another SCHEMA or a file
that cannot be read means a miss; the App then works as without the cache and writes it
again after loading. The view holds no secret (names, domains, endpoints, sizes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.userdirs import cache_dir
from fedi_tui.core.views.overviewmodel import DashboardView, view_from_json, view_to_json

SCHEMA = 1
"""Bumped whenever the view's JSON form changes: older caches are then ignored."""

_BESIDE = (Path(".fedi") / "recorded.json", Path(".fedi") / "deployments" / "index.json")


@dataclass(frozen=True)
class FirstView:
    key: str
    """The key of the files now (write the view loaded from them under it)."""
    view: DashboardView | None
    """The cached view when its key is this one; None on a miss."""


def cache_file(state: Path) -> Path:
    name = hashlib.sha256(str(state.resolve()).encode()).hexdigest()
    return cache_dir() / "firstview" / f"{name}.json"


def view_key(state: Path, text: str | None = None) -> str:
    """A sha256 of the state file (or `text`, what was read of it) and the two records
    beside it (absent ones count too)."""
    digest = hashlib.sha256()
    for path in (state, *(state.parent / p for p in _BESIDE)):
        try:
            data = text.encode() if text is not None and path == state else path.read_bytes()
        except OSError:
            digest.update(b"\x00absent")
            continue
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def read_first_view(state: Path) -> FirstView:
    """The key of the files now and the cached view if it was made from them."""
    key = view_key(state)
    try:
        raw = json.loads(cache_file(state).read_text(encoding="utf-8"))
        if raw["schema"] != SCHEMA or raw["key"] != key:
            return FirstView(key, None)
        return FirstView(key, view_from_json(raw["view"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return FirstView(key, None)


def write_first_view(state: Path, key: str, view: DashboardView) -> None:
    """Keep `view` as made from the files with `key` (0600 file in a 0700 directory,
    replaced atomically). A cache that cannot be written is no error: it is only faster."""
    target = cache_file(state)
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.chmod(0o700)
        text = json.dumps({"schema": SCHEMA, "key": key, "view": view_to_json(view)})
        write_atomic(target, text.encode(), mode=0o600)
    except OSError:
        return
