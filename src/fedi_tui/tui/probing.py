"""Test connection: which endpoint of an entry to probe, and what the App remembers of it."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from fedi_tui.adapters.probe import ProbeResult, probe_ssh, probe_url
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.state.spec import NixosRuntimeSpec


@dataclass(frozen=True)
class ProbeView:
    """The last test of one entry: running, or its result."""

    running: bool
    result: ProbeResult | None = None


def probe_key(section: str, name: str) -> str:
    return f"{section}/{name}"


def probe_entry(spec: StateSpec, section: str, name: str) -> Awaitable[ProbeResult]:
    """The probe for a runtime (Proxmox API TLS, or NixOS host SSH) or storage (admin API)."""
    if section == "runtimes":
        runtime = spec.runtimes[name]
        if isinstance(runtime, NixosRuntimeSpec):
            return probe_ssh(runtime.host, runtime.port)
        return probe_url(runtime.api)
    return probe_url(spec.storage[name].admin_endpoint)
