"""storage status: each Garage storage's health and the usage of fedi-tui's buckets on it.

What is asked comes from core.views.storagestatus (the dashboard shows the same);
this module prints it. Exit 0 when every storage asked about is healthy and every
recorded bucket is where it should be; 1 otherwise (unhealthy or degraded cluster,
unreachable endpoint, refused token, a recorded bucket gone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fedi_tui.cli.common import EXIT_OK, EXIT_USER, open_workspace
from fedi_tui.core.errors import FediError
from fedi_tui.core.workspace import Workspace

if TYPE_CHECKING:  # loaded only when the command runs: headless commands start fast
    from fedi_tui.core.views.storagestatus import BucketReport, StorageReport

STATUS_FORMAT = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "storage",
        help="object storage (Garage): health and bucket usage",
        description="Commands for the Garage storages of fedi.toml.",
    )
    commands = p.add_subparsers(
        dest="storage_command", metavar="COMMAND", title="commands", required=True
    )
    s = commands.add_parser(
        "status",
        help="cluster health and usage of fedi-tui's buckets (exit 0: healthy, 1: not)",
        description="Ask each Garage storage (or only STORAGE) for its health — storage nodes "
        "up, partitions with every replica and with a quorum — and for the objects, bytes and "
        "quota of each bucket fedi-tui created there or the configuration wants there. "
        "Read-only. Exit 0 when every storage is healthy and every recorded bucket exists, "
        "1 otherwise.",
    )
    s.add_argument("storage", nargs="?", metavar="STORAGE", help="only this storage")
    s.add_argument("--json", action="store_true", help="print a machine-readable report")
    s.set_defaults(func=cmd_status)


async def _reports(workspace: Workspace, names: list[str]) -> list[StorageReport]:
    from fedi_tui.cli.wiring import build_ports  # network code only when it runs
    from fedi_tui.core.views.storagestatus import gather_reports

    ports = build_ports(workspace)
    try:
        return await gather_reports(workspace, names, ports.storage)
    finally:
        await ports.close()


def cmd_status(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    storages = workspace.spec.storage
    if args.storage is not None and args.storage not in storages:
        known = ", ".join(sorted(storages)) or "none"
        raise FediError(
            f"storage {args.storage}: no such storage in {workspace.path} ([storage.<name>]); "
            f"known: {known}"
        )
    names = [args.storage] if args.storage else sorted(storages)
    if not names:
        print(f'No storage in {workspace.path}: add a [storage.<name>] table (kind = "garage").')
        return EXIT_OK
    reports = asyncio.run(_reports(workspace, names))
    healthy = all(r.ok for r in reports)
    if args.json:
        json.dump(status_document(reports, healthy), sys.stdout, indent=2)
        sys.stdout.write("\n")
        for report in reports:  # the document has them; say them where people look, too
            if report.error:
                print(f"fedi-tui: {report.error}", file=sys.stderr)
    else:
        for report in reports:
            print_report(report)
    return EXIT_OK if healthy else EXIT_USER


def status_document(reports: list[StorageReport], healthy: bool) -> dict[str, Any]:
    """The --json form, versioned by `format`."""
    return {
        "format": STATUS_FORMAT,
        "healthy": healthy,
        "storages": [
            {
                "name": r.name,
                "admin_endpoint": r.admin_endpoint,
                "healthy": r.ok,
                "health": asdict(r.health) if r.health else None,
                "error": r.error,
                "buckets": [asdict(b) for b in r.buckets],
            }
            for r in reports
        ],
    }


def size(n: int | None) -> str:
    """Bytes in binary units, one decimal: 1.5 KiB, 20.0 GiB."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _health_line(r: StorageReport) -> str:
    where = f"storage {r.name} ({r.admin_endpoint})"
    if r.health is None:
        return f"{where}: ERROR: {(r.error or '').removeprefix(where + ': ')}"
    h = r.health
    word = h.status if h.healthy else h.status.upper()
    return (
        f"{where}: {word} — {h.nodes_up}/{h.nodes} storage nodes up, "
        f"{h.partitions_ok}/{h.partitions} partitions with every replica, "
        f"{h.partitions_quorum}/{h.partitions} with a quorum"
    )


def _remark(b: BucketReport) -> str:
    if b.state == "not-created":
        return "not created yet (fedi-tui apply creates it)"
    if b.state == "missing":
        return "MISSING: recorded as created, not found on the storage; plan again"
    if b.state == "unread":
        return "not read: the cluster has no quorum"  # (an unreachable storage shows no table)
    if b.state == "error":
        return f"ERROR: {b.error}"
    parts = []
    if b.quota_bytes:
        parts.append(f"{100 * (b.bytes or 0) / b.quota_bytes:.1f}% of quota")
    if b.wanted_quota_bytes != b.quota_bytes and b.wanted_quota_bytes is not None:
        parts.append(f"fedi.toml wants a {size(b.wanted_quota_bytes)} quota; apply sets it")
    if b.wanted_quota_bytes is None:
        parts.append("its app was removed; kept (plan --prune-data deletes it)")
    return "; ".join(parts)


def print_report(r: StorageReport) -> None:
    print(_health_line(r))
    if r.health is None:
        pass
    elif not r.buckets:
        print("  no buckets of fedi-tui here")
    else:
        rows = [("BUCKET", "OPERATOR", "OBJECTS", "SIZE", "QUOTA", "")]
        for b in r.buckets:
            rows.append(
                (
                    b.name,
                    b.operator,
                    "-" if b.objects is None else str(b.objects),
                    size(b.bytes),
                    "none" if b.state == "ok" and b.quota_bytes is None else size(b.quota_bytes),
                    _remark(b),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(5)]
            print(("  " + "  ".join(cells) + "  " + row[5]).rstrip())
    if r.note:
        print(f"  note: {r.note}")
    print()
