"""Proxmox failures as messages a sysadmin can act on.

Every message starts with the runtime and its API address, names the node and
VMID when there is one, quotes what Proxmox said, and ends with what to do.
The API token's secret never appears: messages are built from the token *id*
and the secret's *source*, and any text taken from an exception passes through
:meth:`Where.scrub` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import requests
from proxmoxer.core import ResourceException

from fedi_tui.adapters.proxmox_http import NotProxmox, Redirected
from fedi_tui.adapters.proxmox_tls import describe_tls_failure
from fedi_tui.adapters.tcpconnect import SERVICES, one_line, seconds
from fedi_tui.core.deploy.ports import HypervisorError
from fedi_tui.core.text import visible_line

__all__ = [
    "LOCKED",
    "ProxmoxError",
    "Reason",
    "Where",
    "advice_for",
    "explain",
    "pve_message",
    "reason_of",
    "refused",
]

Reason = Literal[
    "auth",
    "permission",
    "tls",
    "connect",
    "timeout",
    "offline",
    "quorum",
    "locked",
    "task",
    "missing",
    "refused",
    "api",
]

LOCKED = re.compile(
    r"can't lock file|got timeout.*lock|lock.*got timeout|VM is locked|CT is locked", re.I
)
"""Proxmox's words for a held lock: a config/storage lock timeout, or a locked guest."""
_QUORUM = re.compile(r"no quorum|cluster not ready", re.I)
_OFFLINE = re.compile(r"no route to host|node .* seems to be offline", re.I)


class ProxmoxError(HypervisorError):
    """A Proxmox call failed; ``reason`` says which kind of failure, for callers that branch.

    ``vm_left`` (see :class:`HypervisorError`): a VM of fedi-tui's stays behind under
    ``vmid``, tagged, for the next run to finish or remove."""

    def __init__(
        self,
        message: str,
        *,
        reason: Reason,
        node: str | None = None,
        vmid: int | None = None,
        vm_left: bool = False,
    ) -> None:
        super().__init__(message, vmid=vmid, node=node, vm_left=vm_left)
        self.reason: Reason = reason


@dataclass(frozen=True)
class Where:
    """What a message needs to say where it happened, and the one value it must never say."""

    runtime: str
    api: str
    target: str
    """``host:port`` of the API."""
    token_id: str
    token_source: str
    """Where the secret comes from, e.g. ``env 'PVE_TOKEN'`` — never the secret."""
    ca_file: str | None
    fingerprint: str | None
    connect_timeout: float = 5.0
    """Seconds for the TCP connection and the TLS handshake."""
    read_timeout: float = 30.0
    """Seconds an answer may take."""
    secret: str | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        return f"runtime {self.runtime} ({self.api})"

    def scrub(self, text: str) -> str:
        """Text from elsewhere, on one line, with the token secret blotted out and every
        control character made visible (a server's words may carry escape sequences)."""
        line = one_line(text)
        if self.secret:
            line = line.replace(self.secret, "***")
        return visible_line(line)

    def not_proxmox(self, what: str, got: str, expected: str = "a JSON answer") -> ProxmoxError:
        """The error for an answer that is not what the Proxmox VE API sends."""
        return ProxmoxError(
            f"{self.prefix}: {what}: expected {expected} from the Proxmox VE API, got {got}; "
            f"is runtimes.{self.runtime}.api the address of a Proxmox VE node (pveproxy, "
            "usually port 8006)? check it in fedi.toml",
            reason="api",
        )


def pve_message(exc: ResourceException) -> str:
    message = str(exc.content or exc.status_message or "").strip()
    errors = exc.errors
    if isinstance(errors, dict) and errors and "errors" not in errors:
        fields = "; ".join(f"{key}: {value}" for key, value in sorted(errors.items()))
        message = f"{message} ({fields})" if message else fields
    return message


def advice_for(message: str, *, node: str | None, vmid: int | None, storage: str) -> str:
    """What to do about a failure Proxmox reported, judged from its words."""
    if LOCKED.search(message):
        unlock = f"; a stale lock is cleared with `qm unlock {vmid}`" if vmid else ""
        return (
            "another task holds the VM's lock: wait until it finishes (the node's task "
            f"list shows it) and run again{unlock}"
        )
    if _QUORUM.search(message):
        return (
            "the cluster has lost quorum: nothing can be created, changed, started or stopped "
            "until enough nodes are back; check `pvecm status`"
        )
    if re.search(r"no space left|not enough space|out of space", message, re.I):
        return f"free space on storage {storage!r} or give the machine a smaller disk"
    if re.search(r"non-shared storage|uses local storage", message, re.I):
        return (
            "a template on local storage clones only to its own node: put the template and "
            f"storage {storage!r} on shared storage, or keep a template on every node"
        )
    if re.search(r"already exists", message, re.I):
        return "that VMID is taken: plan again with --live so a free VMID is picked"
    where = f"node {node}" if node else "the cluster"
    return (
        f"see the task log on {where} (Datacenter → Tasks in the web UI) and run again "
        "once the cause is fixed"
    )


def reason_of(message: str, default: Reason) -> Reason:
    """The kind of failure a Proxmox message describes: a held lock, lost quorum, or *default*."""
    if LOCKED.search(message):
        return "locked"
    if _QUORUM.search(message):
        return "quorum"
    return default


def explain(
    exc: BaseException,
    where: Where,
    what: str,
    *,
    node: str | None = None,
    vmid: int | None = None,
    storage: str = "",
) -> ProxmoxError:
    """The ProxmoxError for an exception raised by proxmoxer or requests while doing *what*."""
    p = where.prefix
    at = f"node {node}" + (f", VM {vmid}" if vmid is not None else "") if node else ""
    on = f" ({at})" if at and f"node {node}" not in what else ""
    if isinstance(exc, ResourceException):
        status = int(exc.status_code)
        said = where.scrub(pve_message(exc))
        if status == 401:
            return ProxmoxError(
                f"{p}: the API refused the token {where.token_id} (401 {said}): check the "
                f"token id and the secret read from {where.token_source}, and that the token "
                "still exists and has not expired (`pveum user token list` on a node)",
                reason="auth",
                node=node,
                vmid=vmid,
            )
        if status == 403:
            inner = re.search(r"\(([^)]*)\)", said)
            need = inner.group(1) if inner else said
            return ProxmoxError(
                f"{p}: {what}{on}: permission denied for token {where.token_id} (403: {said}); "
                f"grant it what is missing ({need}), e.g. `pveum acl modify / --tokens "
                f"'{where.token_id}' --roles PVEVMAdmin,PVEDatastoreUser,PVEAuditor`",
                reason="permission",
                node=node,
                vmid=vmid,
            )
        if status == 595 or (node and _OFFLINE.search(said)):
            return ProxmoxError(
                f"{p}: {what}: node {node or '?'} is offline or unreachable from the cluster "
                f"({status} {said}): bring the node back, or plan again with --live so nothing "
                "new is placed there; `pvecm status` shows the cluster's view",
                reason="offline",
                node=node,
                vmid=vmid,
            )
        reason = reason_of(said, "api")
        return ProxmoxError(
            f"{p}: {what}{on} failed: Proxmox said {status} {said}; "
            + advice_for(said, node=node, vmid=vmid, storage=storage),
            reason=reason,
            node=node,
            vmid=vmid,
        )
    if isinstance(exc, Redirected):
        return ProxmoxError(
            f"{p}: {what}{on}: the API answered {exc.status} {exc.reason}, a redirect to "
            f"{exc.location}; fedi-tui never follows redirects from the Proxmox API (the "
            f"answer could come from anywhere): set runtimes.{where.runtime}.api to the "
            "address that answers itself",
            reason="api",
            node=node,
            vmid=vmid,
        )
    if isinstance(exc, NotProxmox):
        return where.not_proxmox(f"{what}{on}", exc.got)
    if isinstance(exc, requests.exceptions.SSLError):
        return ProxmoxError(
            f"{p}: "
            + describe_tls_failure(
                where.target,
                where.scrub(str(exc)),
                ca_file=where.ca_file,
                fingerprint=where.fingerprint,
            ),
            reason="tls",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        waited = re.search(r"timeout=([0-9.]+)\)", str(exc))
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ProxmoxError(
                f"{p}: {what}{on}: could not connect to {where.target} within "
                f"{seconds(where.connect_timeout)} (connect timed out): the host may be down, "
                "or a firewall drops the packets; check the api address and port in fedi.toml",
                reason="timeout",
                node=node,
                vmid=vmid,
            )
        # urllib3 waits for the TLS handshake with the connect timeout, and reports it
        # as a read timeout of that many seconds.
        if waited and float(waited.group(1)) == where.connect_timeout != where.read_timeout:
            return ProxmoxError(
                f"{p}: {what}{on}: no TLS handshake from {where.target} within "
                f"{seconds(where.connect_timeout)} (connect timed out): something accepts "
                "connections there but does not answer like pveproxy; check the api address "
                "and port in fedi.toml and that the host is not overloaded",
                reason="timeout",
                node=node,
                vmid=vmid,
            )
        return ProxmoxError(
            f"{p}: {what}{on}: no answer from {where.target} within "
            f"{seconds(where.read_timeout)} (read timed out): the host may be overloaded, or "
            "a firewall drops the packets; check it and run again",
            reason="timeout",
            node=node,
            vmid=vmid,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        port = int(where.target.rsplit(":", 1)[1])
        service = SERVICES.get(port, "pveproxy")
        if refused(exc):
            return ProxmoxError(
                f"{p}: connection refused on {where.target}: nothing listens there; is "
                f"{service} running? check the api address and port in fedi.toml",
                reason="connect",
            )
        return ProxmoxError(
            f"{p}: {what}{on}: lost the connection to {where.target} "
            f"({where.scrub(_innermost(exc))}); check the network and run again",
            reason="connect",
            node=node,
            vmid=vmid,
        )
    return ProxmoxError(
        f"{p}: {what}{on} failed: {type(exc).__name__}: {where.scrub(str(exc))}",
        reason="api",
        node=node,
        vmid=vmid,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
        todo += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def refused(exc: BaseException) -> bool:
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc)) or (
        "connection refused" in str(exc).lower()
    )


def _innermost(exc: BaseException) -> str:
    chain = _chain(exc)
    for item in reversed(chain):
        if isinstance(item, OSError) and (item.strerror or str(item)):
            return item.strerror or str(item)
    return str(chain[-1]) or type(chain[-1]).__name__
