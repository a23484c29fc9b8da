"""Write rendered machines into a directory (`fedi-tui render --out DIR`), safely.

`DIR` may be shared or writable by others, and the user may run fedi-tui as
root, so nothing here follows a link or trusts a name it did not just make:

* every file is made under a fresh temporary directory with an unpredictable
  name (`mkdir` fails rather than follow anything already there), through
  directory descriptors, with `O_CREAT | O_EXCL | O_NOFOLLOW`;
* `DIR/<machine>` is replaced only when it is a real directory holding
  fedi-tui's `manifest.json` for that machine: a symlink, a file or a
  directory of someone else's is refused before anything is written;
* the new directory takes the old one's place by rename, and the old one is
  deleted with the descriptor-based `shutil.rmtree`, which never follows links;
* a machine that no longer exists is removed only if its directory carries
  fedi-tui's manifest, so nothing fedi-tui did not write is ever deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_tui.core.deploy.render import RenderedMachine
from fedi_tui.core.errors import FediError

MANIFEST = "manifest.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_LEFTOVER = re.compile(r"\.([a-z0-9][a-z0-9-]{0,62})\.[0-9a-f]{12}\.(tmp|old)")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class RenderDirResult:
    written: tuple[str, ...]
    """Machines written (replaced or new), in the order given."""
    removed: tuple[str, ...]
    """Directories of machines that no longer exist, removed."""


def write_render_dir(
    out: Path,
    rendered: Sequence[RenderedMachine],
    *,
    existing: Callable[[str], bool],
    prune: Callable[[Mapping[str, Any]], bool] = lambda manifest: True,
) -> RenderDirResult:
    """Make `out/<machine>` hold exactly each machine's rendered files.

    `existing(name)` says whether a machine still exists in the state file;
    an earlier render of one that does not, and for which `prune(manifest)`
    holds, is removed. Raises FediError, having changed nothing, if a machine's
    directory is not one fedi-tui may replace.
    """
    dir_fd = _open_out(out)
    try:
        for machine in rendered:
            _check_replaceable(out, dir_fd, machine.name)
        _remove_leftovers(dir_fd)
        written = []
        for machine in rendered:
            _install(out, dir_fd, machine)
            written.append(machine.name)
        removed = _prune(dir_fd, existing, prune)
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return RenderDirResult(tuple(written), removed)


def _open_out(out: Path) -> int:
    """A descriptor of `out`, created (with its parents) if missing."""
    if out.exists() and not out.is_dir():
        raise FediError(
            f"--out {out}: is a file, not a directory; give a directory (it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        return os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise FediError(
            f"--out {out}: cannot create or open the directory "
            f"({exc.strerror or exc}); give a directory you can write to"
        ) from None


def _safe_name(name: str) -> str:
    if not _NAME.fullmatch(name):  # machine names are identifiers; never a path
        raise FediError(f"machine name {name!r} cannot be a directory name")
    return name


def _manifest(dir_fd: int, name: str) -> dict[str, Any] | None:
    """fedi-tui's manifest in `name` (a real directory under dir_fd), or None."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        mfd = os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        with os.fdopen(mfd, "rb") as f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return None
    if (
        isinstance(data, dict)
        and data.get("machine") == name
        and isinstance(data.get("files"), dict)
        and isinstance(data.get("hash"), str)
    ):
        return data
    return None


def _check_replaceable(out: Path, dir_fd: int, name: str) -> None:
    """Refuse (before anything is written) a target fedi-tui must not replace."""
    target = out / _safe_name(name)
    try:
        st = os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise FediError(
            f"{target} is a symbolic link; fedi-tui writes a directory of its own there and "
            "never follows links: remove the link, or render into another --out. "
            "Nothing was written"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise FediError(
            f"{target} exists and is not a directory; move it away, or render into another "
            "--out. Nothing was written"
        )
    if _manifest(dir_fd, name) is None:
        raise FediError(
            f"{target} exists but was not rendered by fedi-tui (it has no fedi-tui "
            f"{MANIFEST} for machine {name}); fedi-tui replaces only its own renders: move "
            "it away, or render into another --out. Nothing was written"
        )


@contextlib.contextmanager
def _fresh_dir(dir_fd: int, name: str, suffix: str) -> Iterator[str]:
    """A new directory under dir_fd named `.<name>.<random>.<suffix>`; removed on failure."""
    for _ in range(10):
        tmp = f".{name}.{secrets.token_hex(6)}.{suffix}"
        try:
            os.mkdir(tmp, 0o700, dir_fd=dir_fd)  # never follows: fails if anything is there
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 48 random bits taken ten times
        raise FediError(f"cannot make a temporary directory for {name}")
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp, dir_fd=dir_fd)
        raise


def _install(out: Path, dir_fd: int, machine: RenderedMachine) -> None:
    name = machine.name
    with _fresh_dir(dir_fd, name, "tmp") as tmp:
        _write_files(dir_fd, tmp, machine.files)
        old: str | None = None
        if _exists(dir_fd, name):
            old = f".{name}.{secrets.token_hex(6)}.old"
            os.rename(name, old, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        try:
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            if old is not None:  # put the previous render back
                with contextlib.suppress(OSError):
                    os.rename(old, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            raise FediError(
                f"{out / name}: something appeared there while rendering "
                f"({exc.strerror}); nothing was replaced: look at it and render again"
            ) from None
    if old is not None:
        shutil.rmtree(old, dir_fd=dir_fd)


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


def _write_files(dir_fd: int, tmp: str, files: Mapping[str, str]) -> None:
    root = os.open(tmp, _DIR_FLAGS, dir_fd=dir_fd)
    try:
        for rel, text in sorted(files.items()):
            *dirs, leaf = rel.split("/")
            if any(part in ("", ".", "..") for part in (*dirs, leaf)):
                raise FediError(f"rendered file name {rel!r} is not a relative path")
            parent = os.dup(root)
            try:
                for part in dirs:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=parent)
                    child = os.open(part, _DIR_FLAGS, dir_fd=parent)
                    os.close(parent)
                    parent = child
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                fd = os.open(leaf, flags, 0o644, dir_fd=parent)
                with os.fdopen(fd, "wb") as f:
                    f.write(text.encode("utf-8"))
                    f.flush()
                    os.fsync(f.fileno())
            finally:
                os.close(parent)
        os.fchmod(root, 0o755)  # private while written, an ordinary directory once in place
        os.fsync(root)
    finally:
        os.close(root)


def _remove_leftovers(dir_fd: int) -> None:
    """Temporary directories of renders that were killed half-way (real directories only)."""
    me = os.geteuid()
    for entry in os.listdir(dir_fd):
        if not _LEFTOVER.fullmatch(entry):
            continue
        st = os.lstat(entry, dir_fd=dir_fd)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == me:
            with contextlib.suppress(OSError):
                shutil.rmtree(entry, dir_fd=dir_fd)


def _prune(
    dir_fd: int, existing: Callable[[str], bool], prune: Callable[[Mapping[str, Any]], bool]
) -> tuple[str, ...]:
    removed = []
    for entry in sorted(os.listdir(dir_fd)):
        if entry.startswith(".") or not _NAME.fullmatch(entry) or existing(entry):
            continue
        manifest = _manifest(dir_fd, entry)  # None for links, files and others' directories
        if manifest is not None and prune(manifest):
            shutil.rmtree(entry, dir_fd=dir_fd)
            removed.append(entry)
    return tuple(removed)
