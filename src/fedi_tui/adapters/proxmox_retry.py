"""When the Proxmox client tries again, how long it waits, and how many changes run at once.

Proxmox says "try again" in a few ways, and only those are retried:

- ``locked``: a config or storage lock timed out (``can't lock file … got timeout``) or
  the guest is locked by a backup, snapshot, clone or migration (``VM is locked
  (backup)``). Nothing was changed; the request is sent again, with backoff, until
  the lock clears or the client's ``lock_wait`` runs out. This holds for every
  request, whether or not it is safe to repeat in general.
- ``transient``: a 5xx whose words do not say the request can never work, or a
  connection dropped before the answer. Retried only for requests that are safe to
  repeat (reads, and changes that set absolute values), a few times.

Never retried: 401 and 403 (a bad or revoked token stays bad — no retry storm),
400, 501, 595 (node offline), lost quorum, time-outs, TLS failures, redirects and
answers that are not Proxmox's.
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Literal

import requests
from proxmoxer.core import ResourceException

from fedi_tui.adapters.proxmox_errors import LOCKED, ProxmoxError, pve_message, refused
from fedi_tui.adapters.proxmox_http import NotProxmox, Redirected

__all__ = ["LoopSemaphore", "RetryKind", "backoff", "retry_kind"]

RetryKind = Literal["locked", "transient"]

# 5xx answers that say the request cannot work as it is: sending it again would not help.
_PERMANENT = re.compile(
    r"no quorum|cluster not ready|already exists|does not exist|not running|already running|"
    r"destroy failed|no such|non-shared storage|no space|not enough space|permission|"
    r"not implemented|protection mode|template|unable to parse|hostname lookup|invalid|"
    r"verification failed|not allowed|shrinking",
    re.I,
)


def retry_kind(exc: BaseException) -> RetryKind | None:
    """Whether a failed request (an exception from proxmoxer/requests, or a ProxmoxError
    from a task) may be sent again, and why; None when it must not."""
    if isinstance(exc, ProxmoxError):
        return "locked" if exc.reason == "locked" else None
    if isinstance(exc, ResourceException):
        status = int(exc.status_code)
        said = pve_message(exc)
        if status in (400, 401, 403, 501, 595):
            return None
        if LOCKED.search(said):
            return "locked"
        if status >= 500 and not _PERMANENT.search(said):
            return "transient"
        return None
    if isinstance(exc, Redirected | NotProxmox | requests.exceptions.SSLError):
        return None
    if isinstance(exc, requests.exceptions.Timeout):
        return None
    if isinstance(exc, requests.exceptions.ConnectionError):
        return None if refused(exc) else "transient"
    return None


def backoff(attempt: int, base: float, cap: float = 5.0) -> float:
    """Seconds before try *attempt* + 1: exponential from *base*, capped, with jitter so
    that many waiting calls do not come back at the same moment."""
    delay: float = min(cap, base * 2**attempt)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


class LoopSemaphore:
    """An asyncio.Semaphore per event loop (a client may outlive one ``asyncio.run``)."""

    def __init__(self, value: int) -> None:
        self.value = value
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sem: asyncio.Semaphore | None = None

    def get(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._loop is not loop:
            self._loop, self._sem = loop, asyncio.Semaphore(self.value)
        return self._sem
