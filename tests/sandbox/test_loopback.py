"""Every address the sandbox binds or writes into its state files is in 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from fedi_tui.sandbox.layout import provider_dirs
from fedi_tui.sandbox.records import listening_ports, read_records, remaining

pytestmark = [pytest.mark.real, pytest.mark.slow]

IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def addresses_in(text: str) -> list[str]:
    """IPv4 addresses and URL hosts in a string."""
    found = IPV4.findall(text)
    if "://" in text:
        host = urlsplit(text.replace("{bucket}", "b")).hostname or ""
        found.append(host)
    return found


def loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address.endswith(".test")  # a name only rendered, never resolved (RFC 6761)


def test_every_address_is_loopback(running: Path) -> None:
    written: list[str] = []
    for where in provider_dirs(running):
        data = tomllib.loads(where.state_file.read_text())
        written += [a for s in strings(data) for a in addresses_in(s)]
        for cidr in (data["runtimes"]["pve"]["network"]["cidr"],):
            assert ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network("127.0.0.0/8"))
    # every endpoint of both state files: Proxmox, Garage, hosts, the VM pool and DNS
    assert len(written) >= 2 * 8, written
    assert [a for a in written if not loopback(a)] == []
    assert all(not a.endswith(".test") for a in written if "://" in a and "{" not in a)

    records = read_records(running)
    assert {r.name for r in records} >= {"supervisor", "moto (S3)", "sshd nixos host"}
    recorded = [r.address for r in records if r.address]
    assert recorded and all(ipaddress.ip_address(a).is_loopback for a in recorded)

    sockets = listening_ports(remaining(records))
    # two providers: fakepve, Garage admin, health, moto and the NixOS host's sshd each
    assert len(sockets) >= 10, sockets
    assert [s for s in sockets if not ipaddress.ip_address(s[0]).is_loopback] == []
