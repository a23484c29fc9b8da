"""What the Proxmox client accepts as an answer, and how a blocking call waits without blocking.

**Answers.** Every response passes :func:`check_answer` (a ``requests`` response hook,
so it runs before ``requests`` would follow a redirect): a 3xx is refused
(:class:`Redirected`: fedi-tui never follows a redirect from the API, whatever the
scheme or host), and a 2xx must be a JSON object with a ``data`` member
(:class:`NotProxmox` otherwise). What ``data`` holds is checked against the shape
each call expects by :func:`shape_problem`.

**Waiting.** :func:`in_thread` runs one blocking call in a fresh *daemon* thread and
awaits its result on the event loop. Cancelling the await returns at once; the
thread finishes (or times out) on its own and nobody waits for it — not
``asyncio.run`` (which joins its default executor's threads) and not the
interpreter at exit (which joins ``ThreadPoolExecutor`` workers). That is what lets
Ctrl+C end a command within a second while a request hangs on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import requests

from fedi_tui.core.text import visible_line

__all__ = [
    "NotProxmox",
    "Redirected",
    "Shape",
    "check_answer",
    "in_thread",
    "shape_problem",
]

T = TypeVar("T")
Shape = Literal["list", "dict", "str", "any"]
_SNIPPET = 60


class Redirected(requests.RequestException):
    """The API answered with a redirect; it was not followed."""

    def __init__(self, status: int, reason: str, location: str) -> None:
        super().__init__(f"{status} {reason} to {location}")
        self.status = status
        self.reason = visible_line(reason)
        self.location = visible_line(location)


class NotProxmox(requests.RequestException):
    """A 2xx answer that is not what the Proxmox VE API sends: JSON with ``data``."""

    def __init__(self, got: str) -> None:
        super().__init__(got)
        self.got = got


def _snippet(data: bytes) -> str:
    text = data[: _SNIPPET * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    short = text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")
    return visible_line(short)


def check_answer(response: requests.Response, *args: object, **kwargs: object) -> None:
    """Refuse redirects and 2xx answers that are not the Proxmox API's JSON envelope."""
    status = response.status_code
    if 300 <= status < 400:
        raise Redirected(
            status, str(response.reason or ""), str(response.headers.get("Location", "?"))
        )
    if not 200 <= status < 300:
        return  # errors: proxmoxer turns them into ResourceException
    kind = str(response.headers.get("Content-Type", "")).split(";", 1)[0].strip().lower()
    shown = visible_line(kind) or "no content type"
    body = response.content
    if kind not in ("application/json", "text/javascript", "application/x-javascript"):
        raise NotProxmox(f"{status} {shown}: {_snippet(body)!r}" if body else f"{status} {shown}")
    try:
        decoded = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotProxmox(f"{status} {shown} that does not parse: {_snippet(body)!r}") from None
    if not isinstance(decoded, dict) or "data" not in decoded:
        raise NotProxmox(
            'a JSON object without "data"'
            if isinstance(decoded, dict)
            else f"JSON that is not an object: {_snippet(body)!r}"
        )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shape_problem(value: object, shape: Shape) -> str | None:
    """What is wrong with *value* for a call that expects *shape*; None when it fits.

    ``list`` is a list of objects (``null`` counts as an empty list), ``dict`` an object
    (``null`` counts as empty), ``str`` a string.
    """
    if shape == "any":
        return None
    if shape == "list":
        if value is None:
            return None
        if not isinstance(value, list):
            return _kind(value)
        odd = [item for item in value if not isinstance(item, dict)]
        return f"a list holding {_kind(odd[0])}" if odd else None
    if shape == "dict":
        return None if value is None or isinstance(value, dict) else _kind(value)
    return None if isinstance(value, str) else _kind(value)


def _deliver(future: asyncio.Future[T], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


async def in_thread(fn: Callable[[], T], name: str = "proxmox") -> T:
    """Run *fn* in a new daemon thread; cancelling returns at once and leaves the thread be."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def work() -> None:
        try:
            result: Any = fn()
            ok = True
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            result, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_deliver, future, ok, result)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future
