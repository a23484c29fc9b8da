"""A state file is code: its secrets are resolved only if no one else can change it.

`{ command = … }` secret references run programs, and `{ file = … }` and
`{ env = … }` ones are read and sent to the endpoints the file names. So, like
OpenSSH's StrictModes, fedi-tui refuses to resolve the secrets of a state file
that someone other than the user running it could have written: the file must
be owned by that user (or root) and writable by no one else, and so must every
directory above it (a world-writable directory with the sticky bit, like
/tmp, is fine: others cannot replace a file they do not own there; so is
write access for the owner's own private group, as umask 002 gives).

Reading, validating and rendering an untrusted file is fine; only secrets are
refused. `--trust-state-file` (the CLI) overrides the check for one run.

`load_state` records a verdict for each file it reads (from the `fstat` of the
very descriptor it read, so the check applies to the bytes used);
`SecretRef.resolve(base_dir)` asks `check_secrets_allowed(base_dir)` first.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import threading
from pathlib import Path

from fedi_tui.core.errors import FediError


class UntrustedStateFile(FediError):
    """Secrets of a state file others could change are not resolved."""


_lock = threading.Lock()
_verdicts: dict[Path, str | None] = {}
_override = False


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _private_group(st: os.stat_result) -> bool:
    """The file's group is its owner's own (the user-private-group scheme, umask 002):
    named like the owner, the owner's primary group, with no other member."""
    try:
        owner = pwd.getpwuid(st.st_uid)
        group = grp.getgrgid(st.st_gid)
    except KeyError:
        return False
    return (
        group.gr_name == owner.pw_name
        and owner.pw_gid == st.st_gid
        and set(group.gr_mem) <= {owner.pw_name}
    )


def _writers(st: os.stat_result) -> str | None:
    """Who besides the owner can write it, or None."""
    mode = st.st_mode
    group = bool(mode & stat.S_IWGRP) and not _private_group(st)
    other = bool(mode & stat.S_IWOTH)
    if not (group or other):
        return None
    who = "its group and everyone" if group and other else "its group" if group else "everyone"
    return f"{who} can write it (mode {stat.S_IMODE(mode):04o})"


def untrusted_reason(path: Path, st: os.stat_result | None = None) -> str | None:
    """Why the state file at `path` (as `st` says, if given) must not be trusted, or None."""
    me = os.geteuid()
    try:
        st = st if st is not None else path.stat()
    except OSError as exc:
        return f"{path} cannot be checked ({exc.strerror})"
    if st.st_uid not in (me, 0):
        return f"{path} belongs to {_user(st.st_uid)}, not to you ({_user(me)})"
    writers = _writers(st)
    if writers:
        return f"{path}: {writers}"
    for parent in _directories_above(path):
        try:
            dst = parent.stat()
        except OSError as exc:
            return f"{parent}, a directory above {path.name}, cannot be checked ({exc.strerror})"
        if dst.st_uid not in (me, 0):
            return (
                f"{parent}, a directory above {path.name}, belongs to {_user(dst.st_uid)}: "
                "they can replace the file"
            )
        writers = None if dst.st_mode & stat.S_ISVTX else _writers(dst)
        if writers:
            return (
                f"{parent}, a directory above {path.name}: {writers}, so others can replace "
                "the file"
            )
    return None


def _directories_above(path: Path) -> list[Path]:
    """Every directory whose owner could replace the file: as named, and through links."""
    seen: dict[Path, None] = {}
    for start in (path.absolute().parent, path.absolute().parent.resolve(), path.resolve().parent):
        for directory in (start, *start.parents):
            seen.setdefault(directory, None)
    return list(seen)


def _key(path: Path) -> Path:
    return path.absolute().parent.resolve() / path.name


def record_state_file(path: Path, st: os.stat_result) -> None:
    """Remember whether the state file just read from `path` may be trusted with secrets."""
    reason = untrusted_reason(path, st)
    with _lock:
        _verdicts[_key(path)] = reason


def trust_state_files(on: bool) -> None:
    """`--trust-state-file`: resolve secrets even of state files others could change."""
    global _override
    with _lock:
        _override = on


def check_secrets_allowed(base_dir: Path | None) -> None:
    """Refuse (UntrustedStateFile) if `base_dir` holds a state file read as untrusted.

    `base_dir` is the state file's directory, which secret references are
    resolved against; without one there is no state file to judge.
    """
    if base_dir is None:
        return
    where = base_dir.absolute().resolve()
    with _lock:
        if _override:
            return
        found = [(p, r) for p, r in _verdicts.items() if p.parent == where and r]
    if found:
        path, reason = found[0]
        raise UntrustedStateFile(
            f"not reading secrets for {path}: {reason}. A state file is code: its "
            "{ command = … } secrets run programs, and its { file = … } and { env = … } "
            "secrets are sent to the endpoints it names. Make it yours alone (chown it to "
            "yourself and chmod go-w the file and the directories above it), or run with "
            "--trust-state-file if you trust everyone who can change it"
        )
