"""The lock-out guard: a revert armed on the machine before switching it.

Like deploy-rs's "magic rollback": before the switch, fedi-tui writes a canary
file holding a deadline and starts a watcher on the machine that outlives the
SSH session (a transient systemd unit, or a detached background process on
machines without systemd). After the switch fedi-tui shortens the deadline to
`confirm_seconds`, then logs in again over a *new* connection and deletes the
canary. If that login never succeeds — the new configuration broke SSH or the
network — the watcher finds the canary at the deadline and switches back by
itself, but only if the system profile moved (a switch that never happened
needs no rollback).

This module only builds the argument vectors; the engine runs them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Literal

GuardKind = Literal["systemd", "background", "off"]

# $1 canary, $2 profile link, $3 profile target before the switch, then the rollback command.
_WATCH = r"""canary=$1 profile=$2 before=$3
shift 3
while [ -e "$canary" ]; do
  deadline=$(cat "$canary" 2>/dev/null)
  case $deadline in ''|*[!0-9]*) sleep 1; continue ;; esac
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 1
done
[ -e "$canary" ] || exit 0
rm -f "$canary"
[ "$(readlink "$profile" 2>/dev/null)" = "$before" ] && exit 0
echo "fedi-tui guard: no confirmation from fedi-tui; switching back" >&2
exec "$@"
"""

# $1 run dir, $2 canary, $3 seconds from now: write the deadline atomically.
_DEADLINE = r"""umask 077
mkdir -p "$1" || exit 1
printf '%s\n' "$(( $(date +%s) + $3 ))" > "$2.new" && mv -f "$2.new" "$2"
"""

# $1 run dir, $2 canary, $3 seconds, $4 watcher script, $5 profile, $6 before, then rollback.
_ARM_BACKGROUND = (
    _DEADLINE
    + r"""[ $? -eq 0 ] || exit 1
canary=$2 watch=$4
shift 4
if command -v setsid >/dev/null 2>&1; then
  setsid sh -c "$watch" fedi-tui-guard "$canary" "$@" </dev/null >/dev/null 2>&1 &
else
  nohup sh -c "$watch" fedi-tui-guard "$canary" "$@" </dev/null >/dev/null 2>&1 &
fi
"""
)

# as above, but the watcher runs as a transient systemd service (survives sshd restarts)
_ARM_SYSTEMD = (
    _DEADLINE
    + r"""[ $? -eq 0 ] || exit 1
canary=$2 watch=$4 unit=$5
shift 5
exec systemd-run --quiet --collect --unit="$unit" --description="fedi-tui lock-out guard" \
  --setenv=PATH="$PATH" /bin/sh -c "$watch" fedi-tui-guard "$canary" "$@"
"""
)


def canary_path(run_dir: str, deployment: str) -> str:
    return posixpath.join(run_dir, f"guard-{deployment}")


def arm(
    kind: GuardKind,
    *,
    run_dir: str,
    deployment: str,
    seconds: int,
    profile: str,
    before: str,
    rollback: Sequence[str],
) -> list[str]:
    """The command that writes the canary (deadline `seconds` from now) and starts the watcher."""
    canary = canary_path(run_dir, deployment)
    if kind == "systemd":
        unit = f"fedi-tui-guard-{deployment}"
        return [
            "sh",
            "-c",
            _ARM_SYSTEMD,
            "fedi-tui-arm",
            run_dir,
            canary,
            str(seconds),
            _WATCH,
            unit,
            profile,
            before,
            *rollback,
        ]
    if kind == "background":
        return [
            "sh",
            "-c",
            _ARM_BACKGROUND,
            "fedi-tui-arm",
            run_dir,
            canary,
            str(seconds),
            _WATCH,
            profile,
            before,
            *rollback,
        ]
    raise ValueError("the guard is off")


def extend(*, run_dir: str, deployment: str, seconds: int) -> list[str]:
    """Move the deadline to `seconds` from now (after the switch: the confirmation window)."""
    canary = canary_path(run_dir, deployment)
    return ["sh", "-c", _DEADLINE, "fedi-tui-deadline", run_dir, canary, str(seconds)]


def disarm(*, run_dir: str, deployment: str) -> list[str]:
    """Confirm: remove the canary, so the watcher ends without doing anything.

    Fails (non-zero) when the canary is gone already: the guard fired.
    """
    return ["rm", canary_path(run_dir, deployment)]
