"""Connection tests: the port the TUI reaches endpoints through, and what a test found.

A test ("t" in the Runtimes area) contacts one entry's endpoint, reads the
identity the server presents (TLS certificate or SSH host key) and judges it
with the trust the entry configures: the CA in `ca_file`, a pinned
`fingerprint` or `host_key`, the system's CAs, or known_hosts. The CLI wires
an implementation of `Prober` (`adapters.prober.NetworkProber`) into the TUI;
core and the TUI see only this Protocol and these frozen dataclasses.

A result belongs to the exact target it was made for (`ProbeTarget`): when
the entry's endpoint or trust changes, the result no longer says anything
about it and is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the adapters import this module: it stays cheap to import
    from fedi_tui.core.state.model import StateSpec

__all__ = [
    "ProbeReport",
    "ProbeResult",
    "ProbeTarget",
    "Prober",
    "Trust",
    "after_pin",
    "judge_pin",
    "probe_target",
]


@dataclass(frozen=True)
class ProbeResult:
    """What a probe found. ``error`` is None exactly when the probe succeeded."""

    target: str
    """``host:port`` probed (IPv6 addresses in brackets), e.g. ``127.0.0.1:8006``."""
    reachable: bool
    """The TCP connection was accepted."""
    latency_ms: float | None
    """Time the TCP connect took, in milliseconds (None when not reachable)."""
    tls_fingerprint: str | None
    """SHA-256 of the leaf certificate (DER) as ``AA:BB:…`` (32 upper-case hex pairs)."""
    tls_subject: str | None
    """The certificate's subject, e.g. ``CN=pve1``, for display only."""
    ssh_host_key: str | None
    """The server's host key as an OpenSSH line without comment: ``ssh-ed25519 AAAA…``."""
    ssh_fingerprint: str | None
    """``SHA256:…`` fingerprint of the host key, as ``ssh-keygen -l`` prints it."""
    error: str | None
    """None on success; otherwise one line: what failed and what to check."""


@dataclass(frozen=True)
class ProbeTarget:
    """One entry's endpoint and the trust it configures: exactly what a test checks."""

    entry: str
    """Where it is in fedi.toml, e.g. ``runtimes.pve-a``."""
    url: str | None
    """The https:// or http:// endpoint; None for an SSH host (then `host` and `port`)."""
    host: str = ""
    port: int = 22
    ca_file: str | None = None
    """As written in fedi.toml."""
    ca_path: Path | None = None
    """`ca_file` as a path: `~` expanded, relative to the state file's directory."""
    fingerprint: str | None = None
    host_key: str | None = None

    @property
    def endpoint(self) -> str:
        """The endpoint in words: the URL, or ``ssh host:port``."""
        return self.url if self.url is not None else f"ssh {self.host}:{self.port}"

    @property
    def section(self) -> str:
        return self.entry.partition(".")[0]

    @property
    def name(self) -> str:
        return self.entry.partition(".")[2]


@dataclass(frozen=True)
class Trust:
    """How the configured trust judged what the server presented."""

    anchor: str
    """What it was judged against, in words: 'the CA in pve-ca.pem', 'the pinned fingerprint'."""
    ok: bool | None
    """True: a client of fedi-tui would accept it; False: it would refuse; None: nothing
    to judge (plain http://)."""
    detail: str
    """One or two sentences: what was checked, what came out, what to do."""


@dataclass(frozen=True)
class ProbeReport:
    """A finished connection test of one target."""

    target: ProbeTarget
    result: ProbeResult
    trust: Trust | None
    """None when the endpoint could not be reached (`result.error` says why)."""


class Prober(Protocol):
    """Runs connection tests. Never raises for a failed test: the report says what failed;
    only cancellation propagates."""

    async def check(self, target: ProbeTarget) -> ProbeReport: ...


def probe_target(spec: StateSpec, state_path: Path, section: str, name: str) -> ProbeTarget:
    """The target of a runtime (Proxmox API or NixOS host) or storage (admin API) entry."""
    from fedi_tui.core.state.spec import NixosRuntimeSpec

    entry = f"{section}.{name}"
    if section == "runtimes":
        runtime = spec.runtimes[name]
        if isinstance(runtime, NixosRuntimeSpec):
            return ProbeTarget(
                entry, None, host=runtime.host, port=runtime.port, host_key=runtime.host_key
            )
        url, ca_file, fingerprint = runtime.api, runtime.ca_file, runtime.fingerprint
    else:
        storage = spec.storage[name]
        url, ca_file, fingerprint = storage.admin_endpoint, storage.ca_file, storage.fingerprint
    ca_path = None
    if ca_file is not None:
        ca_path = Path(ca_file).expanduser()
        if not ca_path.is_absolute():
            ca_path = state_path.parent / ca_path
    return ProbeTarget(entry, url, ca_file=ca_file, ca_path=ca_path, fingerprint=fingerprint)


def judge_pin(target: ProbeTarget, result: ProbeResult) -> Trust | None:
    """The verdict of a pinned fingerprint or host key (a comparison); None if none is pinned."""
    if target.fingerprint is not None and result.tls_fingerprint is not None:
        if result.tls_fingerprint == target.fingerprint:
            detail = "the certificate matches the fingerprint pinned in fedi.toml"
            return Trust("the pinned fingerprint", True, detail)
        return Trust(
            "the pinned fingerprint",
            False,
            "the certificate DIFFERS from the fingerprint pinned in fedi.toml: fedi-tui "
            "will refuse this server. A changed certificate can mean someone is intercepting "
            "the connection; compare it with `pvenode cert info` on the node before pinning",
        )
    if target.host_key is not None and result.ssh_host_key is not None:
        if result.ssh_host_key == " ".join(target.host_key.split()[:2]):
            return Trust("the pinned host key", True, "the host key matches the one pinned")
        return Trust(
            "the pinned host key",
            False,
            "the host key DIFFERS from the one pinned in fedi.toml: fedi-tui will refuse this "
            "host. A changed host key can mean someone is intercepting the connection; "
            "compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the "
            "machine's console before pinning",
        )
    return None


def after_pin(report: ProbeReport, target: ProbeTarget) -> ProbeReport:
    """The report for the entry as it is after pinning what this report showed."""
    return replace(report, target=target, trust=judge_pin(target, report.result) or report.trust)
