"""What a VM's QEMU guest agent tells, read through the Proxmox API: its addresses and its
SSH host key.

Addresses are used only when they lie inside the runtime's ``network.cidr``: an agent
may report addresses from anywhere (a container bridge, a stale lease, fakepve's
192.0.2.10), and fedi-tui never connects outside the network it manages. The host key
is read from ``/etc/ssh/ssh_host_ed25519_key.pub`` with ``agent/file-read`` and is
accepted only when it parses as an OpenSSH public key whose type matches its blob —
that is the key to pin, with no trust on first use.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import re
import struct
from collections.abc import Mapping
from typing import Any

from fedi_tui.adapters.proxmox_errors import ProxmoxError
from fedi_tui.adapters.proxmox_session import Progress
from fedi_tui.adapters.proxmox_vms import ProxmoxVms
from fedi_tui.core.text import visible_line

__all__ = ["HOST_KEY_FILE", "ProxmoxAgent", "parse_host_key"]

HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub"
_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
_BLOB = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def parse_host_key(text: str) -> str | None:
    """``type base64`` of the first OpenSSH public key line in *text*, or None."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] not in _KEY_TYPES or not _BLOB.fullmatch(fields[1]):
            continue
        try:
            blob = base64.b64decode(fields[1], validate=True)
            (length,) = struct.unpack(">I", blob[:4])
            named = blob[4 : 4 + length].decode("ascii")
        except (binascii.Error, struct.error, UnicodeDecodeError):
            continue
        if named == fields[0]:
            return f"{fields[0]} {fields[1]}"
    return None


class ProxmoxAgent(ProxmoxVms):
    """Reads a running VM's addresses and SSH host key through its guest agent."""

    def _inside(self, address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(self.spec.network.cidr)
        except ValueError:
            return False

    async def _agent_facts(
        self, node: str, vmid: int, configured: str | None, wait: float, say: Progress
    ) -> tuple[str | None, str | None]:
        """(address, host key) from the guest agent, waiting up to *wait* seconds for it to
        answer; (None, None) when it does not. *configured* is the address cloud-init has."""
        what = f"ask the guest agent of VM {vmid}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            try:
                interfaces = await self._call(
                    f"{what} for its addresses",
                    lambda api: api.nodes(node).qemu(vmid).agent("network-get-interfaces").get(),
                    node=node,
                    vmid=vmid,
                    expect="dict",
                )
                break
            except ProxmoxError as exc:
                if exc.reason in ("auth", "tls", "offline"):
                    raise
                if loop.time() >= deadline:
                    say(f"{what}: no answer ({_short(exc)})")
                    return None, None
                await asyncio.sleep(min(1.0, max(0.0, deadline - loop.time())))
        address = self._pick_address(interfaces, configured, what, say)
        host_key = await self._host_key(node, vmid, what, say)
        return address, host_key

    def _pick_address(
        self, interfaces: Mapping[str, Any] | None, configured: str | None, what: str, say: Progress
    ) -> str | None:
        reported: list[str] = []
        result = (interfaces or {}).get("result")
        for iface in result if isinstance(result, list) else []:
            if not isinstance(iface, Mapping) or iface.get("name") == "lo":
                continue
            for entry in iface.get("ip-addresses") or []:
                if isinstance(entry, Mapping) and isinstance(entry.get("ip-address"), str):
                    reported.append(entry["ip-address"])
        inside = [a for a in reported if self._inside(a)]
        outside = [visible_line(a) for a in reported if not self._inside(a)]
        if outside:
            say(
                f"{what}: it reports {', '.join(outside)}, outside "
                f"{self.spec.network.cidr} (runtimes.{self.name}.network.cidr): not used"
            )
        if configured in inside:
            return configured
        return inside[0] if inside else None

    async def _host_key(self, node: str, vmid: int, what: str, say: Progress) -> str | None:
        try:
            data = await self._call(
                f"{what} for the SSH host key",
                lambda api: api.nodes(node).qemu(vmid).agent("file-read").get(file=HOST_KEY_FILE),
                node=node,
                vmid=vmid,
                expect="dict",
            )
        except ProxmoxError as exc:
            if exc.reason in ("auth", "tls"):
                raise
            say(f"{what}: could not read {HOST_KEY_FILE} ({_short(exc)})")
            return None
        content = (data or {}).get("content")
        key = parse_host_key(content) if isinstance(content, str) else None
        if key is None:
            say(f"{what}: {HOST_KEY_FILE} does not hold an SSH public key; not pinned")
        return key


def _short(exc: ProxmoxError) -> str:
    text = str(exc)
    return text.split(": ", 2)[-1][:200]
