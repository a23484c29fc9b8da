"""`fedi-tui sandbox up|down|status`: a whole provider on this machine's loopback addresses."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from fedi_tui.cli.common import EXIT_OK, EXIT_USER

if TYPE_CHECKING:
    from fedi_tui.sandbox.control import Status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sandbox",
        help="start/stop a local sandbox provider to try everything on (loopback only)",
        description="A sandbox provider on this machine's loopback addresses: a Proxmox VE "
        "API (fakepve) whose VMs boot into local OpenSSH machines, a NixOS host, a Garage "
        "(S3 + admin API stand-ins), health endpoints, and a second provider for trying "
        "migration. Nothing leaves the machine. Needs root.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    for name, text in (
        ("up", "start the sandbox and write its state files"),
        ("down", "stop every process the sandbox started and remove its directory"),
        ("status", "show the sandbox's processes, alive or dead, with their addresses"),
    ):
        a = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        a.add_argument(
            "--dir",
            metavar="DIR",
            type=Path,
            help="the sandbox's directory (default: $FEDI_SANDBOX_DIR, else "
            "$XDG_STATE_HOME/fedi-tui/sandbox)",
        )
        if name == "up":
            a.add_argument(
                "--open",
                action="store_true",
                help="then open the TUI on the sandbox; quitting it stops the sandbox",
            )
        a.set_defaults(func=cmd_sandbox)


def _dir(args: argparse.Namespace) -> Path:
    from fedi_tui.sandbox.layout import default_dir

    given: Path | None = args.dir
    return (given or default_dir()).expanduser().resolve()


def cmd_sandbox(args: argparse.Namespace) -> int:
    action: str = args.action
    directory = _dir(args)
    if action == "up":
        return _up(args, directory)
    if action == "down":
        return _down(directory)
    return _status(directory)


def _up(args: argparse.Namespace, directory: Path) -> int:
    from fedi_tui.sandbox import control

    print(f"Starting the SANDBOX in {directory} (loopback addresses only)…", flush=True)
    started = control.up(directory)
    state = started.state_files[0]
    print()
    _print_processes(started)
    print()
    print("State files (provider.sandbox = true):")
    for path in started.state_files:
        print(f"  {path}")
    print()
    print("Next:")
    print(f"  fedi-tui --state {state}                 # the TUI")
    print(f"  fedi-tui --state {state} plan")
    print(f"  fedi-tui --state {state} apply --yes")
    print(f"  fedi-tui --state {state} logs")
    print(f"  fedi-tui --state {state} undeploy --operator coop --yes")
    print(f"Stop it: fedi-tui sandbox down --dir {directory}")
    if not args.open:
        return EXIT_OK
    from fedi_tui.cli.tuicmd import run_tui

    args.state = str(state)
    try:
        code = run_tui(args)
    finally:
        print("Stopping the sandbox…", flush=True)
        control.down(directory)
        print(f"Sandbox stopped; {directory} removed.")
    return code


def _down(directory: Path) -> int:
    from fedi_tui.sandbox import control

    if not directory.exists():
        print(f"No sandbox in {directory}: nothing to stop.")
        return EXIT_OK
    records, _ = control.down(directory)
    print(f"Stopped {len(records)} sandbox processes; {directory} removed.")
    return EXIT_OK


def _status(directory: Path) -> int:
    from fedi_tui.sandbox import control

    found = control.status(directory)
    if not found.records:
        print(f"No sandbox in {directory}.")
        return EXIT_USER if directory.exists() else EXIT_OK
    _print_processes(found)
    if not found.running:
        print(f"The sandbox is not running; `fedi-tui sandbox down --dir {directory}` cleans up.")
    for path in found.state_files:
        print(f"State file: {path}")
    return EXIT_OK


def _print_processes(found: Status) -> None:
    from fedi_tui.sandbox.records import alive

    print(f"{'PROVIDER':<9}{'PROCESS':<20}{'PID':>8}  {'STATE':<6} ADDRESS")
    for record in found.records:
        state = "alive" if alive(record) else "dead"
        print(f"{record.group:<9}{record.name:<20}{record.pid:>8}  {state:<6} {record.where}")
    if found.services:
        print()
        print(f"{'PROVIDER':<9}{'SERVICE (in the supervisor)':<30} ADDRESS")
        for provider, what, where in found.services:
            print(f"{provider:<9}{what:<30} {where}")
