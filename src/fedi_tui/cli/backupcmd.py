"""backup and restore: an operator's data to a directory, and back into its deployment.

Exit codes: 0 done, 1 refused or failed (the message says what and where), 130
interrupted (a backup then leaves nothing at its path).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from fedi_tui.cli.common import EXIT_OK, open_workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup",
        help="back up an operator's databases, objects, secrets and configuration",
        description="Per app instance of the operator: its PostgreSQL database (pg_dump -Fc "
        "streamed over SSH, never staged on the machine), every object of its buckets (size "
        "and SHA-256 of each), its generated secrets (a file only you can read) and the "
        "rendered configuration, with a manifest of checksums, app and fedi-tui versions. "
        "The backup appears at its path only when complete. Exit 0 done, 1 failed.",
    )
    p.add_argument("--operator", metavar="ID", required=True, help="the operator to back up")
    p.add_argument(
        "--to",
        metavar="PATH",
        type=Path,
        help="directory to create (default: <state dir>/backups/<operator>-<UTC time>)",
    )
    p.set_defaults(func=cmd_backup, mutates=False)

    p = sub.add_parser(
        "restore",
        help="restore a backup into the operator's current deployment (asks first)",
        description="Verify every checksum of the backup first (a backup that does not "
        "match its manifest is refused before anything is touched), then stop the apps' "
        "services, restore their secrets, databases (dropped and re-created) and objects, "
        "start them again and health-check them. Exit 0 done, 1 refused or failed.",
    )
    p.add_argument("--operator", metavar="ID", required=True, help="the operator to restore")
    p.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        type=Path,
        required=True,
        help="a directory `fedi-tui backup` made",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_restore, mutates=True)


def cmd_backup(args: argparse.Namespace) -> int:
    from fedi_tui.cli.progress import Printer
    from fedi_tui.cli.wiring import build_ports
    from fedi_tui.core.portability.backup import READ_ONLY_REFUSAL, backup
    from fedi_tui.core.readonly import enter_read_only, refuse_writes

    if args.read_only:  # a backup copies every secret of the operator: not for read-only
        enter_read_only()
    refuse_writes(READ_ONLY_REFUSAL)
    ws = open_workspace(args)
    printer = Printer()
    result = asyncio.run(backup(ws, build_ports(ws), args.operator, args.to, sinks=[printer]))
    objects = sum(len(b.objects) for i in result.manifest.instances for b in i.buckets)
    size = sum(b.bytes for i in result.manifest.instances for b in i.buckets) + sum(
        i.dump.size for i in result.manifest.instances if i.dump is not None
    )
    print()
    print(
        f"Backup of {args.operator} complete: {result.path} "
        f"({len(result.manifest.instances)} app instances, {objects} objects, "
        f"{size} bytes; log: `fedi-tui logs {result.run}`)"
    )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from fedi_tui.cli.applycmd import _confirm
    from fedi_tui.cli.progress import Printer
    from fedi_tui.cli.wiring import build_ports
    from fedi_tui.core.portability.restore import check_backup, restore

    ws = open_workspace(args)
    manifest, pairs = check_backup(ws, args.operator, args.source)  # before asking anything
    print(
        f"Backup {args.source} of {manifest.operator}, made {manifest.created} by fedi-tui "
        f"{manifest.fedi_tui_version}: every checksum matches."
    )
    for inst, entry in pairs:
        objects = sum(len(b.objects) for b in entry.buckets)
        db = f"database {entry.database}, " if entry.database else ""
        print(f"  {inst.key} on {inst.machine.name}: {db}{objects} objects, secrets")
    print("Their services are stopped, their databases replaced, then started again.")
    _confirm(args, "Restore")
    printer = Printer()
    result = asyncio.run(restore(ws, build_ports(ws), args.operator, args.source, sinks=[printer]))
    print()
    print(
        f"Restored {', '.join(result.instances)} from {args.source}; all healthy "
        f"(log: `fedi-tui logs {result.run}`)."
    )
    return EXIT_OK
