"""fedi-tui's deploy key per runtime: the public half of `ssh.key`, read from `<key>.pub`.

Rendering authorizes this key on every machine of the runtime, so fedi-tui can
log in again after the machine switched to the rendered configuration. Only
the public file is read; the private key is never opened here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from fedi_tui.core.errors import FediError
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.text import visible_line

PUBLIC_KEY = re.compile(
    r"(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)"
    r"@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\x00-\x1f\x7f]*)?"
)
"""One OpenSSH public key line: type, base64 blob, optional comment."""

_MAX_BYTES = 16 * 1024


def public_key_path(key: str, state_path: Path) -> Path:
    """`<key>.pub`: `~` expands; a relative `ssh.key` is relative to the state file."""
    path = Path(key).expanduser()
    if not path.is_absolute():
        path = state_path.parent / path
    return path.with_name(path.name + ".pub")


def read_public_key(runtime: str, key: str, state_path: Path) -> str:
    """The deploy key line of one runtime (FediError naming the runtime, path and fix)."""
    path = public_key_path(key, state_path)
    private = visible_line(str(path)[: -len(".pub")])
    fix = f"write it with: ssh-keygen -y -f {private} > {visible_line(str(path))}"
    where = f"runtimes.{runtime}.ssh.key: deploy key {visible_line(str(path))}"
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        raise FediError(f"{where} does not exist; {fix}") from None
    except IsADirectoryError:
        raise FediError(f"{where} is a directory, not a public key file; {fix}") from None
    except OSError as exc:
        raise FediError(f"{where} cannot be read ({exc.strerror}); {fix}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # the content is never quoted in the message: a private key put there by mistake stays out
    if len(data) > _MAX_BYTES or len(lines) != 1 or not PUBLIC_KEY.fullmatch(lines[0]):
        raise FediError(
            f"{where} is not one OpenSSH public key line ('ssh-ed25519 AAAA… comment'); {fix}"
        )
    return lines[0]


def read_deploy_keys(spec: StateSpec, state_path: Path, runtimes: Iterable[str]) -> dict[str, str]:
    """The deploy key of each named runtime (those that have machines), by runtime name."""
    return {
        name: read_public_key(name, spec.runtimes[name].ssh.key, state_path)
        for name in sorted(set(runtimes))
    }


def deploy_key_of(keys: Mapping[str, str], runtime: str) -> str:
    """The deploy key for a runtime's machine, or FediError when none was read."""
    try:
        return keys[runtime]
    except KeyError:
        raise FediError(
            f"runtimes.{runtime}: no deploy key was read for it; cannot render its machines"
        ) from None
