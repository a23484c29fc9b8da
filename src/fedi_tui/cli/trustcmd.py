"""trust: pin a machine's SSH host key in fedi-tui's known_hosts, after showing it (like ssh)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from fedi_tui.cli.common import EXIT_OK, open_workspace
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import NixosRuntimeSpec

if TYPE_CHECKING:
    from fedi_tui.core.workspace import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "trust",
        help="show a machine's SSH host key and pin it (asks first)",
        description="Read the SSH host key a machine presents, show its fingerprint, and "
        "after you confirm it (compare it with `ssh-keygen -lf` on the machine's console) "
        "add it to fedi-tui's known_hosts in the state directory. MACHINE is a machine or "
        "NixOS runtime name from the state file, or HOST[:PORT]. A key that differs from "
        "the one already trusted is refused: remove the old one first.",
    )
    p.add_argument("machine", metavar="MACHINE")
    p.add_argument("--port", type=int, help="SSH port (default: the runtime's, else 22)")
    p.add_argument("--yes", action="store_true", help="do not ask; needs --fingerprint")
    p.add_argument(
        "--fingerprint",
        metavar="SHA256:…",
        help="the fingerprint you expect; the key is refused unless it matches",
    )
    p.set_defaults(func=cmd_trust, mutates=True)


def target_of(workspace: Workspace, name: str, port: int | None) -> tuple[str, int]:
    """(host, port) of a machine or runtime name, or of HOST[:PORT]."""
    runtime = workspace.spec.runtimes.get(name)
    if isinstance(runtime, NixosRuntimeSpec):
        return runtime.host, port or runtime.port
    record = workspace.recorded.machines.get(name)
    if record is not None and record.address:
        return record.address, port or 22
    planned = next((m for m in workspace.config.machines if m.name == name), None)
    if planned is not None and planned.address:
        return planned.address, port or 22
    host, sep, given = name.rpartition(":")
    if sep and given.isdigit() and host:
        return host.strip("[]"), port or int(given)
    return name, port or 22


def cmd_trust(args: argparse.Namespace) -> int:
    from fedi_tui.adapters.knownhosts import add_known_host, read_offered_key
    from fedi_tui.core.deploy.runner import known_hosts_file

    workspace = open_workspace(args)
    if args.yes and not args.fingerprint:
        raise FediError("--yes needs --fingerprint SHA256:… to compare the key with")
    host, port = target_of(workspace, args.machine, args.port)
    known_hosts = known_hosts_file(workspace.state_dir)
    offered = asyncio.run(read_offered_key(host, port))
    print(f"{host}:{port} presents {offered.algorithm} key {offered.fingerprint}")
    if offered.already_trusted(known_hosts):
        print(f"It is trusted already ({known_hosts}).")
        return EXIT_OK
    if args.fingerprint is not None and args.fingerprint != offered.fingerprint:
        raise FediError(
            f"{host}:{port} presents {offered.fingerprint}, not {args.fingerprint}: refused. "
            "Someone may be intercepting the connection; nothing was trusted"
        )
    if not args.yes:
        if not sys.stdin.isatty():
            raise FediError("trust asks for confirmation; give --yes --fingerprint … in scripts")
        print("Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console.")
        if input("Trust this key? Only 'yes' is accepted: ").strip() != "yes":
            raise FediError("not trusted; nothing was changed")
    add_known_host(known_hosts, host, port, offered)
    print(f"Trusted: added to {known_hosts}.")
    return EXIT_OK
