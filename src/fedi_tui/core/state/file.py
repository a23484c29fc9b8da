"""Load, validate and save fedi.toml: located problems, minimal edits, atomic writes.

Reading uses `tomllib` (fast) and validates into the pydantic models; edits are
written with tomlkit into the touched sections only (`core.tomledit`), under an
advisory lock, refusing when the file changed on disk since it was loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_tui.core.apps.base import AppModule
from fedi_tui.core.atomicfile import write_atomic
from fedi_tui.core.errors import FediError, InvalidState, Problem, SchemaTooNew, StateConflict
from fedi_tui.core.readonly import refuse_writes
from fedi_tui.core.state.lock import state_lock
from fedi_tui.core.state.model import StateSpec, TomlPath, validate_data
from fedi_tui.core.state.schema import upgrade_edits
from fedi_tui.core.state.tomledit import Edit, apply_edits, apply_to_data
from fedi_tui.core.state.tomlpos import scan
from fedi_tui.core.state.trust import record_state_file

MAX_BYTES = 8 * 1024 * 1024
DEFAULT_NAME = "fedi.toml"


@dataclass(frozen=True)
class LoadedState:
    """A state file as read: its exact text, the plain data and the validated model."""

    path: Path
    text: str
    data: dict[str, Any]
    spec: StateSpec
    digest: str
    """sha256 of the bytes read; saving refuses if the file no longer has it."""
    pending_upgrade: tuple[Edit, ...] = ()
    """Edits that bring an older schema to the current one (applied on the next save)."""


def find_state_path(option: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """--state/-s, else $FEDI_STATE, else ./fedi.toml."""
    env = os.environ if environ is None else environ
    return Path(option or env.get("FEDI_STATE") or DEFAULT_NAME)


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _read(path: Path) -> bytes:
    return _read_with_stat(path)[0]


def _read_with_stat(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and the status of the very file they were read from."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > MAX_BYTES:
                message = (
                    f"the file is {st.st_size:,} bytes; a state "
                    f"file is at most {MAX_BYTES:,} bytes — is this the right file?"
                )
                raise InvalidState(path, [Problem(1, 1, "", message)])
            return f.read(MAX_BYTES + 1), st
    except FileNotFoundError:
        raise FediError(
            f"{path}: no such state file; copy sample-configs/demo.toml there, "
            "or point to one with --state PATH or $FEDI_STATE"
        ) from None
    except IsADirectoryError:
        raise FediError(f"{path}: is a directory; --state takes the path of a .toml file") from None
    except PermissionError:
        raise FediError(f"{path}: permission denied; check the file's owner and mode") from None


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        message = "the file starts with a byte-order mark (U+FEFF); save it as UTF-8 without BOM"
        raise InvalidState(path, [Problem(1, 1, "", message)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InvalidState(
            path,
            [
                Problem(
                    line,
                    col,
                    "",
                    f"byte 0x{raw[exc.start]:02x} is not "
                    "UTF-8 text; a state file is UTF-8 TOML — is this the right file?",
                )
            ],
        ) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def parse_text(path: Path, text: str) -> dict[str, Any]:
    """Plain data from TOML text, or InvalidState naming line and column."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        line, col = _too_deep(text)
        message = "arrays or inline tables are nested too deeply to read"
        raise InvalidState(path, [Problem(line, col, "", f"TOML syntax: {message}")]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT.search(message)
        if m and m.group(1):
            line, col = int(m.group(1)), int(m.group(2))
        else:
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
        reason = _AT.sub("", message)
        reason = reason[:1].lower() + reason[1:]
        raise InvalidState(path, [Problem(line, col, "", f"TOML syntax: {reason}")]) from None


def _too_deep(text: str, limit: int = 100) -> tuple[int, int]:
    """Where brackets first nest deeper than `limit` (a guess: strings are not skipped)."""
    depth = 0
    for offset, ch in enumerate(text):
        depth += 1 if ch in "[{" else -1 if ch in "]}" else 0
        if depth > limit:
            before = text[:offset]
            return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
    return 1, 1


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(path: TomlPath) -> str:
    """A key path as TOML writes it: `operators."my op".name`; array indexes as numbers."""
    return ".".join(
        str(p) if isinstance(p, int) or _BARE_KEY.fullmatch(p) else json.dumps(p) for p in path
    )


def locate(text: str, problems: list[tuple[TomlPath, str]]) -> list[Problem]:
    """Attach line and column to (key path, message) problems.

    A key that is not in the text (a required one) gets its closest ancestor's
    place, or the start of the file for a missing top-level key.
    """
    positions = scan(text)
    located: list[Problem] = []
    for path, message in problems:
        line, col = positions.locate(path)
        located.append(Problem(line or 1, col or 1, _dotted(path), _one_line(message)))
    return located


def _one_line(message: str) -> str:
    """A message that prints on one line, whatever text from the file it quotes."""
    return "".join(
        ch if ch.isprintable() or ch == "\t" else json.dumps(ch).strip('"') for ch in message
    )


def validate_text(
    path: Path, text: str, apps: Mapping[str, AppModule] | None = None
) -> tuple[dict[str, Any], StateSpec, tuple[Edit, ...]]:
    data = parse_text(path, text)
    upgrade = tuple(_upgrade(path, text, data))
    current = apply_to_data(data, upgrade) if upgrade else data
    spec, problems = validate_data(current, apps)
    if problems or spec is None:
        raise InvalidState(path, locate(text, problems))
    return data, spec, upgrade


def _upgrade(path: Path, text: str, data: dict[str, Any]) -> list[Edit]:
    """Schema upgrade edits; a too-new schema is reported at the `schema` line."""
    try:
        return upgrade_edits(data, str(path))
    except SchemaTooNew:
        line, col = scan(text).locate(("schema",))
        return upgrade_edits(data, f"{path}:{line}:{col}: schema")


def load_state(path: Path, apps: Mapping[str, AppModule] | None = None) -> LoadedState:
    """Read and validate a state file; InvalidState lists every problem with its place."""
    raw, st = _read_with_stat(path)
    record_state_file(path, st)  # whether its secrets may be resolved (core.state.trust)
    text = _decode(path, raw)
    data, spec, upgrade = validate_text(path, text, apps)
    return LoadedState(path, text, data, spec, _digest(raw), upgrade)


def save_state(
    loaded: LoadedState,
    edits: list[Edit],
    *,
    lock_timeout: float = 5.0,
    apps: Mapping[str, AppModule] | None = None,
) -> LoadedState:
    """Apply edits to the file as loaded. Validates first; writes atomically under the lock.

    Raises InvalidState (nothing written) if the result would not validate, and
    StateConflict if the file changed on disk since it was loaded.
    """
    path = loaded.path
    refuse_writes(f"save {path}")
    edits = [*loaded.pending_upgrade, *edits]
    try:
        expected = apply_to_data(loaded.data, edits)
        text = apply_edits(loaded.text, edits, expected)
    except (KeyError, ValueError) as exc:
        raise FediError(
            f"{path}: {exc.args[0] if exc.args else exc}; nothing was written"
        ) from None
    _upgrade(path, text, expected)  # refuses a schema newer than this program writes
    spec, problems = validate_data(expected, apps)
    if problems or spec is None:
        raise InvalidState(path, locate(text, problems))
    with state_lock(path, lock_timeout):
        current = _read(path)
        if _digest(current) != loaded.digest:
            raise StateConflict(
                f"{path} changed on disk since it was loaded; reload it and make the change "
                "again (nothing was written)"
            )
        if text == loaded.text:
            return loaded
        raw = text.encode("utf-8")
        _remove_leftovers(path)
        write_atomic(path.with_name(path.name + ".bak"), current)
        write_atomic(path, raw)
    return LoadedState(path, text, expected, spec, _digest(raw))


def _remove_leftovers(path: Path) -> None:
    """Temp files of saves that were killed half-way (only ever written under the lock)."""
    for pattern in (f".{path.name}.*.tmp", f".{path.name}.bak.*.tmp"):
        for leftover in path.parent.glob(pattern):
            leftover.unlink(missing_ok=True)


def update_state(
    path: Path,
    change: Callable[[LoadedState], list[Edit]],
    *,
    lock_timeout: float = 5.0,
    apps: Mapping[str, AppModule] | None = None,
) -> LoadedState:
    """Read-modify-write under one lock hold: load, compute edits, save."""
    refuse_writes(f"save {path}")
    with state_lock(path, lock_timeout):
        loaded = load_state(path, apps)
        return save_state(loaded, change(loaded), lock_timeout=lock_timeout, apps=apps)
