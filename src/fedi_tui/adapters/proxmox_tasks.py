"""Proxmox tasks: a change and the task it starts, inside the cluster's limit of concurrent
changes, waited for with its log streamed and its exit status insisted on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from fedi_tui.adapters.proxmox_errors import ProxmoxError, advice_for, reason_of
from fedi_tui.adapters.proxmox_http import shape_problem
from fedi_tui.adapters.proxmox_session import Progress, ProxmoxSession
from fedi_tui.core.text import visible_line

__all__ = ["ProxmoxTasks"]


class ProxmoxTasks(ProxmoxSession):
    """Changes that start Proxmox tasks, and waiting for those tasks."""

    async def _mutate(
        self,
        what: str,
        fn: Callable[[Any], Any],
        *,
        node: str,
        vmid: int | None,
        say: Progress,
        safe: bool = True,
        task: str | None = None,
    ) -> None:
        """A change: the request and the task it starts, inside the cluster's limit of
        concurrent mutations (``max_mutations``), retried as a whole while a lock holds it
        up (and on passing failures when *safe*). *task* names the step in messages."""
        label = f"{what}: {task}" if task else what

        async def once() -> None:
            async with self._mutations.get():
                upid = await self._attempt(fn)
                if upid is None or upid == "":  # done at once (a synchronous call)
                    return
                await self._wait(self._upid(upid, label), label, vmid=vmid, say=say)

        await self._retrying(label, once, safe=safe, say=say, node=node, vmid=vmid)

    def _upid(self, value: object, what: str) -> str:
        """A task id, or a clear error that this is not what Proxmox answers."""
        if isinstance(value, str) and value.startswith("UPID:") and len(value.split(":")) >= 8:
            return value
        got = (
            f"{visible_line(value)[:60]!r}"
            if isinstance(value, str)
            else str(shape_problem(value, "str"))
        )
        raise self._where.not_proxmox(what, got, expected="a task id (UPID)")

    async def _wait(self, upid: str, what: str, *, vmid: int | None, say: Progress) -> None:
        """Wait for a task to stop, streaming its log lines, then insist on its exit status."""
        fields = upid.split(":")
        node, kind = fields[1], visible_line(fields[5])
        loop = asyncio.get_running_loop()
        start = reported = pulled = loop.time()
        delay = self.poll_interval
        seen = 0
        unreadable = False

        async def pull_log() -> None:
            nonlocal seen, unreadable
            if unreadable:
                return
            try:
                entries = await self._call(
                    f"{what}: read the task log",
                    lambda api: api.nodes(node).tasks(upid).log.get(start=seen, limit=500),
                    node=node,
                    vmid=vmid,
                    expect="list",
                )
            except ProxmoxError as exc:
                unreadable = True
                say(f"{what}: the task log cannot be read ({exc.reason}); going on without it")
                return
            for entry in entries or []:
                say(f"{kind}: {self._where.scrub(str(entry.get('t', '')))}")
            seen += len(entries or [])

        say(f"{what}: started")
        while True:
            status: Mapping[str, Any] = await self._call(
                f"{what}: read the task status",
                lambda api: api.nodes(node).tasks(upid).status.get(),
                node=node,
                vmid=vmid,
                expect="dict",
            )
            if status.get("status") == "stopped":
                await pull_log()
                break
            now = loop.time()
            if now - start > self.task_timeout:
                raise self._fail(
                    f"{what}: the task is still running on node {node} after "
                    f"{self.task_timeout:g} s; it carries on there ({visible_line(upid)}): wait "
                    "for it in the node's task list, then run again",
                    "timeout",
                    node,
                    vmid,
                )
            if now - pulled >= 1.0:
                await pull_log()
                pulled = now
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
            f"{advice} (task {visible_line(upid)})",
            reason,
            node,
            vmid,
        )
