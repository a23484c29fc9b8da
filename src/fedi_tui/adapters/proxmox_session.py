"""The plumbing of the Proxmox client: the proxmoxer connection, calls in a worker thread
with readable errors, task waiting, and finding guests. See :mod:`fedi_tui.adapters.proxmox`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from proxmoxer import ProxmoxAPI

from fedi_tui.adapters.proxmox_config import owns
from fedi_tui.adapters.proxmox_errors import (
    ProxmoxError,
    Reason,
    Where,
    advice_for,
    explain,
    reason_of,
)
from fedi_tui.adapters.proxmox_tls import ca_path, configure_session, system_cas
from fedi_tui.adapters.tcpconnect import target_of
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec

__all__ = ["Progress", "ProxmoxSession"]

Progress = Callable[[str], None]
T = TypeVar("T")
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry


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
        on_progress: Progress | None = None,
        timeout: float = 30.0,
        task_timeout: float = 1800.0,
        poll_interval: float = 0.2,
    ) -> None:
        """*base_dir* is the state file's directory: relative ``ca_file`` and secret files
        are read from there. *timeout* limits each HTTP request, *task_timeout* each task."""
        self.name = name
        self.spec = spec
        self.base_dir = base_dir
        self.on_progress = on_progress or _quiet
        self.timeout = timeout
        self.task_timeout = task_timeout
        self.poll_interval = poll_interval
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
        )
        self._lock = threading.Lock()
        self._api: Any = None

    # --- plumbing ------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
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
                timeout=self.timeout,
                path_prefix=self._prefix,
            )
            configure_session(
                api._store["session"], api._store["base_url"], fingerprint=self.spec.fingerprint
            )
            self._api = api
            return api

    async def _call(
        self, what: str, fn: Callable[[Any], T], *, node: str | None = None, vmid: int | None = None
    ) -> T:
        def run() -> T:
            return fn(self._connect())

        try:
            return await asyncio.to_thread(run)
        except FediError:
            raise
        except Exception as exc:
            raise explain(
                exc, self._where, what, node=node, vmid=vmid, storage=self.spec.storage
            ) from None

    def _fail(
        self, message: str, reason: Reason, node: str | None = None, vmid: int | None = None
    ) -> ProxmoxError:
        return ProxmoxError(f"{self._where.prefix}: {message}", reason=reason, node=node, vmid=vmid)

    async def _wait(self, upid: Any, what: str, *, vmid: int | None, say: Progress) -> None:
        """Wait for a task to stop, then insist on its exit status."""
        if not isinstance(upid, str) or not upid.startswith("UPID:"):
            raise self._fail(f"{what}: expected a task id (UPID), got {upid!r}", "api", vmid=vmid)
        node = upid.split(":")[1]
        loop = asyncio.get_running_loop()
        start = reported = loop.time()
        delay = self.poll_interval
        say(f"{what}: started")
        while True:
            status: Mapping[str, Any] = await self._call(
                f"{what}: read the task status",
                lambda api: api.nodes(node).tasks(upid).status.get(),
                node=node,
                vmid=vmid,
            )
            if status.get("status") == "stopped":
                break
            now = loop.time()
            if now - start > self.task_timeout:
                raise self._fail(
                    f"{what}: the task is still running on node {node} after "
                    f"{self.task_timeout:g} s; it carries on there ({upid}): wait for it in the "
                    "node's task list, then run again",
                    "timeout",
                    node,
                    vmid,
                )
            if now - reported >= 5.0:
                say(f"{what}: running ({now - start:.0f} s)")
                reported = now
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)
        exit_status = self._where.scrub(str(status.get("exitstatus", "")))
        if exit_status == "OK":
            say(f"{what}: done")
            return
        if exit_status.startswith("WARNINGS"):
            say(f"{what}: done with {exit_status.lower()}; see the task log on node {node}")
            return
        advice = advice_for(exit_status, node=node, vmid=vmid, storage=self.spec.storage)
        reason = reason_of(exit_status, "task")
        on = "" if f"node {node}" in what else f" on node {node}"
        raise self._fail(
            f"{what} failed: the Proxmox task{on} ended with “{exit_status}”; "
            f"{advice} (task {upid})",
            reason,
            node,
            vmid,
        )

    # --- reading -------------------------------------------------------------

    async def guests(self) -> list[dict[str, Any]]:
        """Every VM and container the token can see, as ``/cluster/resources`` lists them."""
        data = await self._call("list the guests", lambda api: api.cluster.resources.get(type="vm"))
        return [g for g in data or [] if g.get("type") in ("qemu", "lxc")]

    async def guest(self, vmid: int) -> dict[str, Any] | None:
        return next((g for g in await self.guests() if int(g.get("vmid", -1)) == vmid), None)

    async def _config(self, node: str, vmid: int, what: str) -> dict[str, Any]:
        data = await self._call(
            what, lambda api: api.nodes(node).qemu(vmid).config.get(), node=node, vmid=vmid
        )
        return dict(data or {})

    async def _owned(self, vmid: int, what: str, node: str, say: Progress) -> dict[str, Any] | None:
        """The guest, if it exists — refusing one that is not fedi-tui's."""
        found = await self.guest(vmid)
        if found is None:
            return None
        if not owns(self.spec, found) or found.get("type") != "qemu":
            raise self._fail(
                f"{what}: VM {vmid} ({found.get('name', '?')}) on node {found.get('node')} was "
                f"not created by fedi-tui (it needs VMID in {self.spec.vmids} and the tag "
                "'fedi-tui'); fedi-tui leaves it alone — check the VMID in the recorded state",
                "refused",
                str(found.get("node")),
                vmid,
            )
        actual = str(found.get("node"))
        if actual != node:
            say(f"{what}: VM {vmid} is on node {actual}, not {node}; acting there")
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
