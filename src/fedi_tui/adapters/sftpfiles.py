"""Write files on a machine over SFTP: atomically, private from the first byte, tidy.

* :func:`write_file` creates a temporary file beside the target (exclusive
  create, owner-only), sets its final mode *before* any content is written,
  writes, flushes to disk and renames it over the target with
  ``posix-rename@openssh.com``. Readers see the old file or the new one, never a
  half-written one, and a secret is never readable by others, not even for a
  moment.
* :func:`push_tree` makes a directory hold exactly a given set of files: each
  one written as above (several at once, over the one SFTP channel), then files
  that are no longer wanted removed. It only
  ever touches what is inside that directory (symbolic links are removed, never
  followed) and refuses to adopt a directory that already holds files it did
  not put there (it leaves a ``.fedi-tui-managed`` marker in the ones it owns).

Remote paths are POSIX paths and must be absolute. SFTP failures become
:class:`FediError` naming the machine and the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass

import asyncssh

from fedi_tui.adapters.tcpconnect import one_line
from fedi_tui.core.errors import FediError

__all__ = ["MARKER", "PushResult", "make_dirs", "push_tree", "write_file"]

MARKER = ".fedi-tui-managed"
"""Left in every directory :func:`push_tree` manages; it removes stale files only there."""
_MARKER_TEXT = (
    "This directory is managed by fedi-tui: files not in the rendered configuration are "
    "removed on each deployment.\n"
)
_TMP_INFIX = ".fedi-tmp-"
DIR_MODE = 0o700
WRITES_AT_ONCE = 16
"""Files of one :func:`push_tree` being written at the same time."""


@dataclass(frozen=True)
class PushResult:
    """What :func:`push_tree` did, as paths relative to the directory."""

    written: tuple[str, ...]
    removed: tuple[str, ...]


def _failed(where: str, action: str, path: str, exc: asyncssh.SFTPError) -> FediError:
    return FediError(f"{where}: cannot {action} {path}: {one_line(exc.reason) or exc}")


def check_absolute(path: str) -> str:
    """*path* if it is an absolute, normalised POSIX path other than ``/``."""
    if (
        not path.startswith("/")
        or path == "/"
        or posixpath.normpath(path) != path
        or path.startswith("//")
        or "\0" in path
    ):
        raise ValueError(f"expected an absolute, normalised remote path, got {path!r}")
    return path


def _check_relative(rel: str) -> str:
    parts = rel.split("/")
    if (
        not rel
        or rel.startswith("/")
        or "\0" in rel
        or any(p in ("", ".", "..") for p in parts)
        or rel == MARKER
        or any(_TMP_INFIX in p for p in parts)
    ):
        raise ValueError(f"expected a relative path inside the directory, got {rel!r}")
    return rel


async def make_dirs(sftp: asyncssh.SFTPClient, path: str, where: str) -> None:
    """Create *path* and missing parents with mode 0700 (existing ones are left alone)."""
    try:
        await sftp.makedirs(path, attrs=asyncssh.SFTPAttrs(permissions=DIR_MODE), exist_ok=True)
    except asyncssh.SFTPError as exc:
        raise _failed(where, "create the directory", path, exc) from None


async def write_file(
    sftp: asyncssh.SFTPClient, path: str, data: bytes, *, mode: int, where: str
) -> None:
    """Replace *path* atomically with *data*; its parent directory must exist."""
    check_absolute(path)
    parent, name = posixpath.split(path)
    tmp = posixpath.join(parent, f".{name}{_TMP_INFIX}{secrets.token_hex(6)}")
    flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL
    created = False
    try:
        # Owner-only at creation (the server's umask can only remove bits), then the
        # final mode, then the content: no moment where others could read it.
        async with sftp.open(
            tmp, flags, asyncssh.SFTPAttrs(permissions=0o600), encoding=None
        ) as file:
            created = True
            await file.chmod(mode)
            await file.write(data)
            with contextlib.suppress(asyncssh.SFTPOpUnsupported):
                await file.fsync()
        await sftp.posix_rename(tmp, path)
        created = False
    except asyncssh.SFTPError as exc:
        raise _failed(where, "write", path, exc) from None
    finally:
        if created:  # failed or cancelled half-way: leave nothing behind
            with contextlib.suppress(asyncssh.Error, OSError):
                await sftp.remove(tmp)


async def _write_all(
    sftp: asyncssh.SFTPClient, root: str, files: Mapping[str, str], *, mode: int, where: str
) -> None:
    """Write *files* under *root* at once (each as :func:`write_file` does): their requests
    share the SFTP channel, so the round trips overlap instead of adding up. Every write
    runs to its end (a failed one leaves nothing behind); then the first failure is raised."""
    limit = asyncio.Semaphore(WRITES_AT_ONCE)

    async def one(rel: str, text: str) -> None:
        async with limit:
            await write_file(sftp, posixpath.join(root, rel), text.encode(), mode=mode, where=where)

    results = await asyncio.gather(
        *(one(rel, text) for rel, text in sorted(files.items())), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _scan(sftp: asyncssh.SFTPClient, root: str) -> dict[str, str]:
    """Everything below *root* by relative path → ``"dir"``, ``"file"`` or ``"other"``.

    Entries are classified by lstat (what READDIR returns), so a symbolic link is
    ``"other"`` and never descended into.
    """
    found: dict[str, str] = {}
    todo = [""]
    while todo:
        rel = todo.pop()
        async for entry in sftp.scandir(posixpath.join(root, rel) if rel else root):
            name = entry.filename
            if not isinstance(name, str) or name in (".", ".."):
                continue
            child = f"{rel}/{name}" if rel else name
            perms = entry.attrs.permissions or 0
            if stat.S_ISDIR(perms):
                found[child] = "dir"
                todo.append(child)
            else:
                found[child] = "file" if stat.S_ISREG(perms) else "other"
    return found


async def _remove(sftp: asyncssh.SFTPClient, root: str, rel: str, kind: str) -> None:
    path = posixpath.join(root, rel)
    if kind == "dir":
        await sftp.rmtree(path)
    else:
        await sftp.remove(path)


async def push_tree(
    sftp: asyncssh.SFTPClient,
    files: Mapping[str, str],
    remote_dir: str,
    *,
    mode: int = 0o600,
    where: str,
) -> PushResult:
    """Make *remote_dir* hold exactly *files* (relative path → UTF-8 text)."""
    check_absolute(remote_dir)
    wanted = {_check_relative(rel): text for rel, text in files.items()}
    dirs = {
        "/".join(parts[:i])
        for parts in (rel.split("/") for rel in wanted)
        for i in range(1, len(parts))
    }
    clash = sorted(dirs & wanted.keys())
    if clash:
        raise ValueError(f"{clash[0]!r} is given both as a file and as a directory")

    try:
        exists = await sftp.isdir(remote_dir)
        present = await _scan(sftp, remote_dir) if exists else {}
    except asyncssh.SFTPError as exc:
        raise _failed(where, "list", remote_dir, exc) from None
    if present and MARKER not in present:
        raise FediError(
            f"{where}: {remote_dir} already holds files that fedi-tui did not put there "
            f"(no {MARKER} in it), so it will not replace or remove them; choose an empty or "
            "new directory, or move those files away"
        )
    try:
        await make_dirs(sftp, remote_dir, where)
        if MARKER not in present:
            await write_file(
                sftp,
                posixpath.join(remote_dir, MARKER),
                _MARKER_TEXT.encode(),
                mode=0o600,
                where=where,
            )
        # Whatever is in the way of a wanted file or directory goes first.
        removed: list[str] = []
        for rel, kind in sorted(present.items()):
            in_the_way = (rel in dirs and kind != "dir") or (rel in wanted and kind == "dir")
            if in_the_way and not any(rel.startswith(r + "/") for r in removed):
                await _remove(sftp, remote_dir, rel, kind)
                removed.append(rel)
        for d in sorted(dirs):
            await make_dirs(sftp, posixpath.join(remote_dir, d), where)
        await _write_all(sftp, remote_dir, wanted, mode=mode, where=where)
        # Then what is no longer wanted; deepest first so directories are empty by then.
        for rel, kind in sorted(present.items(), key=lambda item: item[0].count("/"), reverse=True):
            gone = rel in removed or any(rel.startswith(r + "/") for r in removed)
            if gone or rel == MARKER or rel in wanted or rel in dirs:
                continue
            if kind == "dir":
                await sftp.rmdir(posixpath.join(remote_dir, rel))
            else:
                await sftp.remove(posixpath.join(remote_dir, rel))
            removed.append(rel)
    except asyncssh.SFTPError as exc:
        raise FediError(f"{where}: cannot update {remote_dir}: {one_line(exc.reason)}") from None
    return PushResult(written=tuple(sorted(wanted)), removed=tuple(sorted(removed)))
