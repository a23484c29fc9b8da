"""The plumbing of the Proxmox client: the proxmoxer connection, calls in a daemon thread
with readable errors and retries, and finding guests. Changes and their tasks are in
:mod:`~fedi_tui.adapters.proxmox_tasks`; see :mod:`fedi_tui.adapters.proxmox`.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeVar
from urllib.parse import urlsplit

import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from fedi_tui.adapters.proxmox_config import owns
from fedi_tui.adapters.proxmox_errors import (
    ProxmoxError,
    Reason,
    Where,
    explain,
    pve_message,
)
from fedi_tui.adapters.proxmox_http import Shape, in_thread, shape_problem
from fedi_tui.adapters.proxmox_retry import LoopSemaphore, backoff, retry_kind
from fedi_tui.adapters.proxmox_tls import ca_path, configure_session
from fedi_tui.adapters.tcpconnect import target_of
from fedi_tui.adapters.tls import system_cas
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.text import visible_line

__all__ = ["Progress", "ProxmoxSession"]

Progress = Callable[[str], None]
T = TypeVar("T")
P = ParamSpec("P")
SINK: ContextVar[Progress | None] = ContextVar("proxmox_sink", default=None)
"""Where the messages of the port call running in this task go (its on_line), so that
retries deep down report to the caller who asked, not to the client's default."""


def with_sink(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Give a port method its own :data:`SINK`, reset when it returns."""

    @functools.wraps(method)
    async def scoped(*args: P.args, **kwargs: P.kwargs) -> T:
        token = SINK.set(None)
        try:
            return await method(*args, **kwargs)
        finally:
            SINK.reset(token)

    return scoped


_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry
_EXPECTED = {"list": "a list of objects", "dict": "an object", "str": "a string", "any": "data"}


def _quiet(_: str) -> None:
    pass


class ProxmoxSession:
    """One Proxmox runtime of fedi.toml, reached with its API token. Use as ``async with``."""

    def __init__(
        self,
        name: str,
        spec: ProxmoxRuntimeSpec,
        base_dir: Path | None = None,
        *,
        state_file: Path | None = None,
        login_key: str | None = None,
        on_progress: Progress | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        task_timeout: float = 1800.0,
        poll_interval: float = 0.2,
        lock_wait: float = 120.0,
        retries: int = 4,
        retry_delay: float = 0.5,
        shutdown_timeout: int = 120,
        agent_wait: float = 120.0,
    ) -> None:
        """*base_dir* is the state file's directory: relative ``ca_file`` and secret files
        are read from there. *connect_timeout* limits the TCP connection and the TLS
        handshake, *timeout* each answer, *task_timeout* each task. A held lock is waited
        out for *lock_wait* seconds; other failures worth repeating are tried *retries*
        times in all, backing off from *retry_delay* seconds.

        *state_file* is named in the description of every VM made; *login_key* is
        fedi-tui's own public key (the public half of ``ssh.key``), given to every VM
        through cloud-init with the runtime's ``ssh.authorized_keys``. A VM being stopped
        gets *shutdown_timeout* seconds to shut down before it is stopped hard. A VM just
        created whose config enables the guest agent is given *agent_wait* seconds to boot
        far enough for its agent to tell its addresses and SSH host key."""
        self.name = name
        self.spec = spec
        self.base_dir = (
            base_dir if base_dir is not None or state_file is None else state_file.parent
        )
        self.state_file = state_file
        self.login_key = login_key.strip() if login_key else None
        self.shutdown_timeout = shutdown_timeout
        self.agent_wait = agent_wait
        self.on_progress = on_progress or _quiet
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.task_timeout = task_timeout
        self.poll_interval = poll_interval
        self.lock_wait = lock_wait
        self.retries = max(1, retries)
        self.retry_delay = retry_delay
        parts = urlsplit(spec.api)
        host = parts.hostname or ""
        self._host = f"[{host}]" if ":" in host else host
        self._port = parts.port or 8006
        self._prefix = parts.path.strip("/") or None
        self._where = Where(
            runtime=name,
            api=spec.api,
            target=target_of(host, self._port),
            token_id=spec.token_id,
            token_source=spec.token.describe(),
            ca_file=spec.ca_file,
            fingerprint=spec.fingerprint,
            connect_timeout=connect_timeout,
            read_timeout=timeout,
        )
        self._lock = threading.Lock()
        self._api: Any = None
        self._mutations = LoopSemaphore(spec.max_mutations)
        self._reserved: set[int] = set()
        """VMIDs this client is cloning to right now."""
        self._template: tuple[str, dict[str, Any]] | None = None
        self._template_lock = LoopSemaphore(1)

    # --- plumbing ------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close_now()

    def close_now(self) -> None:
        """Close the HTTP connections (a call still waiting in its thread fails)."""
        with self._lock:
            if self._api is not None:
                self._api._store["session"].close()
                self._api = None

    def _connect(self) -> Any:
        """The proxmoxer API object, made on first use (in a worker thread: a secret
        command may run). No request is sent here."""
        with self._lock:
            if self._api is not None:
                return self._api
            verify: str | bool = True  # a pinned fingerprint: PinnedAdapter ignores this
            try:
                if self.spec.ca_file:
                    verify = str(ca_path(self.spec.ca_file, self.base_dir))
                elif not self.spec.fingerprint:
                    verify = system_cas()
            except FediError as exc:
                raise self._fail(str(exc), "tls") from None
            try:
                value = self.spec.token.resolve(self.base_dir).get_secret_value()
            except FediError as exc:
                raise self._fail(f"token: {exc}", "auth") from None
            if not _TOKEN_CHARS.fullmatch(value):
                raise ProxmoxError(
                    f"{self._where.prefix}: the token secret read from "
                    f"{self._where.token_source} is empty or contains spaces or control "
                    "characters (not shown); check it",
                    reason="auth",
                )
            self._where = replace(self._where, secret=value)
            user, _, token_name = self.spec.token_id.partition("!")
            api = ProxmoxAPI(
                self._host,
                port=self._port,
                user=user,
                token_name=token_name,
                token_value=value,
                verify_ssl=verify,
                timeout=(self.connect_timeout, self.timeout),
                path_prefix=self._prefix,
            )
            configure_session(
                api._store["session"], api._store["base_url"], fingerprint=self.spec.fingerprint
            )
            self._api = api
            return api

    async def _retrying(
        self,
        what: str,
        once: Callable[[], Awaitable[T]],
        *,
        safe: bool,
        say: Progress,
        node: str | None,
        vmid: int | None,
    ) -> T:
        """Run *once* until it succeeds or fails in a way not worth repeating: a held lock
        is waited out (``lock_wait``), other passing failures are tried again when *safe*."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        attempt = 0
        while True:
            try:
                return await once()
            except FediError as exc:
                kind = retry_kind(exc)
                failure: BaseException = exc
            except Exception as exc:
                kind = retry_kind(exc)
                failure = exc
            waited = loop.time() - start
            if not (
                (kind == "locked" and waited < self.lock_wait)
                or (kind == "transient" and safe and attempt + 1 < self.retries)
            ):
                error = (
                    failure
                    if isinstance(failure, FediError)
                    else explain(
                        failure, self._where, what, node=node, vmid=vmid, storage=self.spec.storage
                    )
                )
                if kind is not None and attempt and isinstance(error, ProxmoxError):
                    error = ProxmoxError(
                        f"{error} (tried {attempt + 1} times in {waited:.0f} s)",
                        reason=error.reason,
                        node=error.node,
                        vmid=error.vmid,
                    )
                raise error from None
            delay = backoff(attempt, self.retry_delay)
            say(f"{what}: {self._why(failure)}; trying again in {delay:.1f} s")
            attempt += 1
            await asyncio.sleep(delay)

    def _progress(self) -> Progress:
        """The sink of the port call running now, else the client's ``on_progress``."""
        return SINK.get() or self.on_progress

    def _why(self, exc: BaseException) -> str:
        """A few words on a failure that is about to be retried."""
        if isinstance(exc, ResourceException):
            return f"Proxmox said {exc.status_code} {self._where.scrub(pve_message(exc))}"
        if isinstance(exc, requests.exceptions.ConnectionError):
            return "the connection was dropped"
        if isinstance(exc, ProxmoxError):  # a task that ended in a held lock
            said = re.search(r"“([^”]*)”", str(exc))
            return f"the task ended with {said.group(1)}" if said else "the guest is locked"
        return type(exc).__name__

    async def _call(
        self,
        what: str,
        fn: Callable[[Any], T],
        *,
        node: str | None = None,
        vmid: int | None = None,
        expect: Shape = "any",
        safe: bool = True,
        say: Progress | None = None,
    ) -> T:
        """One API request in a daemon thread, retried as Proxmox allows; its answer must
        have the shape *expect* (else a clear error that this is not a Proxmox VE API)."""

        result = await self._retrying(
            what,
            lambda: self._attempt(fn),
            safe=safe,
            say=say or self._progress(),
            node=node,
            vmid=vmid,
        )
        problem = shape_problem(result, expect)
        if problem is not None:
            raise self._where.not_proxmox(what, problem, expected=_EXPECTED[expect])
        return result

    async def _attempt(self, fn: Callable[[Any], T]) -> T:
        """One request, not retried, its exceptions as proxmoxer/requests raise them."""
        return await in_thread(lambda: fn(self._connect()))

    def _fail(
        self, message: str, reason: Reason, node: str | None = None, vmid: int | None = None
    ) -> ProxmoxError:
        return ProxmoxError(f"{self._where.prefix}: {message}", reason=reason, node=node, vmid=vmid)

    # --- reading -------------------------------------------------------------

    async def guests(self) -> list[dict[str, Any]]:
        """Every VM and container the token can see, as ``/cluster/resources`` lists them."""
        data = await self._call(
            "list the guests", lambda api: api.cluster.resources.get(type="vm"), expect="list"
        )
        return _guests_of(data or [])

    async def _resources(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Guests (as :meth:`guests`) and node name → status, from one request."""
        data = await self._call(
            "list the guests and nodes", lambda api: api.cluster.resources.get(), expect="list"
        )
        nodes = {
            str(n.get("node")): str(n.get("status")) for n in data or [] if n.get("type") == "node"
        }
        return _guests_of(data or []), nodes

    async def _listed(self, vmid: int) -> dict[str, Any] | None:
        """The guest's entry of ``/cluster/resources``, or None."""
        return next((g for g in await self.guests() if g["vmid"] == vmid), None)

    async def _config(self, node: str, vmid: int, what: str) -> dict[str, Any]:
        data = await self._call(
            what,
            lambda api: api.nodes(node).qemu(vmid).config.get(),
            node=node,
            vmid=vmid,
            expect="dict",
        )
        return dict(data or {})

    async def _owned(self, vmid: int, what: str, node: str, say: Progress) -> dict[str, Any] | None:
        """The guest, if it exists — refusing one that is not fedi-tui's."""
        found = await self._listed(vmid)
        if found is None:
            return None
        if not owns(self.spec, found) or found.get("type") != "qemu":
            raise self._fail(
                f"{what}: VM {vmid} ({visible_line(str(found.get('name', '?')))}) on node "
                f"{visible_line(str(found.get('node')))} was not created by fedi-tui (it needs "
                f"VMID in {self.spec.vmids} and the tag 'fedi-tui'); fedi-tui leaves it alone — "
                "check the VMID in the recorded state",
                "refused",
                str(found.get("node")),
                vmid,
            )
        actual = str(found.get("node"))
        if actual != node:
            say(f"{what}: VM {vmid} is on node {visible_line(actual)}, not {node}; acting there")
        return found

    async def _need(self, vmid: int, what: str, node: str, say: Progress) -> dict[str, Any]:
        found = await self._owned(vmid, what, node, say)
        if found is None:
            raise self._fail(
                f"{what}: VM {vmid} does not exist on the cluster (or the token cannot see it); "
                "plan again with --live to see what is left",
                "missing",
                node,
                vmid,
            )
        return found


def _guests_of(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The VMs and containers of a ``/cluster/resources`` answer, with integer VMIDs."""
    found = []
    for guest in data:
        if guest.get("type") not in ("qemu", "lxc"):
            continue
        try:
            guest["vmid"] = int(guest.get("vmid", -1))
        except (TypeError, ValueError):
            continue
        found.append(guest)
    return found
