"""Proxmox VE through its API (proxmoxer): observe capacity, and the Hypervisor port —
create, reconfigure, look at, find, list, stop and destroy fedi-tui's VMs.

**Whose guest is it.** A guest is fedi-tui's when its VMID lies inside the
runtime's ``vmids`` range *and* it carries the Proxmox tag ``fedi-tui`` (set on
every VM fedi-tui clones). Anything else — a VM made by hand inside the range, a
tagged VM outside it — belongs to someone else: its cores, memory and disk are
subtracted from what fedi-tui may use, its VMID is reported as taken, and no
method here changes it. Both mistakes the rule can make are on the safe side:
capacity is under- rather than over-stated, and no VMID is handed out twice.

**What** :meth:`ProxmoxClient.observe` **reports**, per node of ``nodes`` in
fedi.toml (GiB, rounded down to 1/100): the node's ``maxcpu`` and ``maxmem``
minus the allocated cores and memory of the other guests on it (running or not,
templates excepted: they never run); for disk, what the VM ``storage`` has free
on the node plus what fedi-tui's own disks take there. The host's own use is not
subtracted — the overcommit ratios in fedi.toml are for head room. The token must
be able to see every guest (``VM.Audit`` on ``/vms``, e.g. the PVEAuditor role),
or hidden guests cannot be subtracted.

**Tasks.** Every call that starts a Proxmox task waits for it (``task_timeout``)
and checks its exit status: ``OK`` succeeds, ``WARNINGS: n`` succeeds with a note,
anything else raises a :class:`ProxmoxError` that names the node, the VMID, the
task's message and what to do. The task's log lines go to the caller's ``on_line``
as they come. At most ``max_mutations`` (a runtime setting, default 4) changes run
at once per client — one client per runtime, whatever the engine's ``--parallel``.
Held locks and passing failures are retried as :mod:`~fedi_tui.adapters.proxmox_retry`
says; a bad or revoked token is not.

**Network.** Blocking proxmoxer calls run in daemon threads
(:func:`~fedi_tui.adapters.proxmox_http.in_thread`): cancelling (Ctrl+C) stops the
wait at once, and nothing waits for the thread (a task itself carries on on the
node). Connecting and the TLS handshake get ``connect_timeout`` (5 s), each answer
``timeout`` (30 s). Redirects are never followed, and an answer that is not the
Proxmox API's JSON is a clear error naming the runtime (see
:mod:`~fedi_tui.adapters.proxmox_http`). Text from the server is shown with its
control characters made visible.

The token's secret is resolved on first use and never logged or put in a message.

**Wiring.** One client per runtime, for the whole run (the mutation limit and the VMIDs
being cloned to are per client): ``ProxmoxClient(name, spec, state_file=<fedi.toml>,
login_key=<the text of ssh.key's .pub>)``.

**Modules**, each building on the one before: ``proxmox_session`` (connection, calls,
retries, guest lists), ``proxmox_tasks`` (changes within the limit, task waiting),
``proxmox_vms`` (clone with VMID allocation, configure, grow, power, delete),
``proxmox_agent`` (guest agent), ``proxmox_reconcile`` (bringing a VM up to date),
``proxmox_machines`` (the port), and this one (observe). Pure helpers are in
``proxmox_config``, failures in ``proxmox_errors`` and ``proxmox_retry``, the HTTP rules
in ``proxmox_http`` and ``proxmox_tls``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from fedi_tui.adapters.proxmox_config import node_capacity, owns, storage_offer
from fedi_tui.adapters.proxmox_errors import ProxmoxError
from fedi_tui.adapters.proxmox_machines import ProxmoxMachines
from fedi_tui.adapters.proxmox_session import Progress
from fedi_tui.core.deploy.livefacts import observe_capacity
from fedi_tui.core.deploy.observed import ObservedFacts, ObservedNode, ObservedRuntime
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.text import visible_line

__all__ = ["Progress", "ProxmoxClient", "ProxmoxError", "observe_runtime", "observe_runtimes"]


class ProxmoxClient(ProxmoxMachines):
    """A Proxmox runtime: observe it, and create, change and remove fedi-tui's VMs on it
    (it implements :class:`fedi_tui.core.deploy.ports.Hypervisor`).

    ``ProxmoxClient(name, spec, base_dir, state_file=..., login_key=..., on_progress=...)``;
    use as ``async with`` (or ``await close()``).
    """

    async def observe(self) -> ObservedRuntime:
        """Capacity per node available to fedi-tui's VMs, and the VMIDs others use."""
        nodes = await self._call("list the nodes", lambda api: api.nodes.get(), expect="list")
        known = {str(n.get("node")): n for n in nodes or []}
        missing = sorted(set(self.spec.nodes) - set(known))
        if missing:
            has = ", ".join(sorted(visible_line(k) for k in known)) or "none"
            raise self._fail(
                f"node {', '.join(missing)} of runtimes.{self.name}.nodes is not in the cluster "
                f"(it has: {has}); fix the node names in fedi.toml",
                "missing",
            )
        guests = await self.guests()
        ours = {g["vmid"] for g in guests if owns(self.spec, g)}

        async def one(name: str) -> tuple[str, ObservedNode]:
            node = known[name]
            offer = 0.0
            if node.get("status") == "online":
                offer = await self._storage_offer(name, ours)
            foreign = [g for g in guests if g.get("node") == name and g["vmid"] not in ours]
            return name, node_capacity(node, foreign, offer)

        names = sorted(self.spec.nodes)
        results = await asyncio.gather(*(one(n) for n in names), return_exceptions=True)
        for result in results:  # the first failure in node order, whichever came first in time
            if isinstance(result, BaseException):
                raise result
        observed = [r for r in results if not isinstance(r, BaseException)]
        used = frozenset(g["vmid"] for g in guests) - ours
        return ObservedRuntime(nodes=dict(observed), used_vmids=used)

    async def _storage_offer(self, node: str, ours: set[int]) -> float:
        store = self.spec.storage
        try:
            status = await self._call(
                f"read storage {store!r}",
                lambda api: api.nodes(node).storage(store).status.get(),
                node=node,
                expect="dict",
            )
        except ProxmoxError as exc:
            if "no such storage" in str(exc).lower() or "does not exist" in str(exc).lower():
                raise self._fail(
                    f"storage {store!r} (runtimes.{self.name}.storage) does not exist on node "
                    f"{node}; set storage to one that holds VM disks on every node "
                    "(`pvesm status` lists them)",
                    "missing",
                    node,
                ) from None
            raise
        if not int(status.get("active") or 0):
            return 0.0
        volumes = await self._call(
            f"list the disks on storage {store!r}",
            lambda api: api.nodes(node).storage(store).content.get(content="images"),
            node=node,
            expect="list",
        )
        return storage_offer(status, volumes or [], ours)


async def observe_runtime(
    name: str, spec: ProxmoxRuntimeSpec, base_dir: Path | None = None
) -> ObservedRuntime:
    """Observe one runtime with a client of its own (closed after)."""
    async with ProxmoxClient(name, spec, base_dir) as client:
        return await client.observe()


async def observe_runtimes(
    runtimes: Mapping[str, ProxmoxRuntimeSpec], base_dir: Path | None = None
) -> ObservedFacts:
    """Observe every runtime at once; if any fails, one error lists every failure."""

    async def one(name: str) -> ObservedRuntime:
        return await observe_runtime(name, runtimes[name], base_dir)

    return await observe_capacity(one, runtimes)
