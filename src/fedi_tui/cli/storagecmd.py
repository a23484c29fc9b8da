"""storage status: each Garage storage's health and the usage of fedi-tui's buckets on it.

The buckets shown are the ones the recorded state says fedi-tui created there,
and the ones the configuration wants there (not created yet until the next
apply). Exit 0 when every storage asked about is healthy and every recorded
bucket is where it should be; 1 otherwise (unhealthy or degraded cluster,
unreachable endpoint, refused token, a recorded bucket gone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fedi_tui.cli.common import EXIT_OK, EXIT_USER, open_workspace
from fedi_tui.core.errors import FediError
from fedi_tui.core.workspace import Workspace

if TYPE_CHECKING:  # loaded only when the command runs: headless commands start fast
    from fedi_tui.adapters.garage import GarageAdmin
    from fedi_tui.core.deploy.ports import StorageHealth
    from fedi_tui.core.state.spec import GarageStorageSpec

STATUS_FORMAT = 1
GIB = 1024**3

BucketState = Literal["ok", "missing", "not-created", "unread", "error"]


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


@dataclass(frozen=True)
class BucketReport:
    name: str
    operator: str
    id: str | None
    state: BucketState
    public: bool = False
    objects: int | None = None
    bytes: int | None = None
    quota_bytes: int | None = None
    wanted_quota_bytes: int | None = None
    """The quota the configuration asks for (None: the app was removed)."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("ok", "not-created")


@dataclass(frozen=True)
class StorageReport:
    name: str
    admin_endpoint: str
    health: StorageHealth | None = None
    error: str | None = None
    buckets: tuple[BucketReport, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.health is not None
            and self.health.healthy
            and all(b.ok for b in self.buckets)
        )


def wanted_buckets(workspace: Workspace, storage: str) -> tuple[list[BucketReport], str | None]:
    """The buckets to report on: recorded ∪ wanted, by name; and a note if the
    configuration could not be computed (only the recorded ones are shown then)."""
    rows: dict[str, BucketReport] = {}
    for name, rec in sorted(workspace.recorded.buckets.items()):
        if rec.storage == storage:
            rows[name] = BucketReport(name, rec.operator, rec.bucket_id, "ok", rec.public)
    note = None
    try:
        wanted = [b for b in workspace.config.buckets if b.storage == storage]
    except FediError as exc:
        wanted = []
        note = f"only recorded buckets are shown: the configuration cannot be mapped ({exc})"
    for b in wanted:
        quota = b.quota_gib * GIB if b.quota_gib else None
        found = rows.get(b.name)
        if found is None:
            rows[b.name] = BucketReport(
                b.name, b.operator, None, "not-created", b.public, wanted_quota_bytes=quota
            )
        else:
            rows[b.name] = replace(found, public=b.public, wanted_quota_bytes=quota)
    return sorted(rows.values(), key=lambda r: r.name), note


async def storage_report(
    name: str, spec: GarageStorageSpec, base_dir: Path, rows: list[BucketReport]
) -> StorageReport:
    """Ask one storage for its health and the usage of *rows* (never raises FediError)."""
    from fedi_tui.adapters.garage import GarageAdmin  # network code only when it runs

    report = StorageReport(name, spec.admin_endpoint)
    async with GarageAdmin(name, spec, base_dir) as admin:
        try:
            health = await admin.health()
        except FediError as exc:
            return replace(report, error=str(exc))
        if health.status == "unavailable":  # every read would fail: say so once
            unread = tuple(
                r if r.state == "not-created" else replace(r, state="unread") for r in rows
            )
            return replace(report, health=health, buckets=unread)
        done = [await _bucket_report(admin, row) for row in rows]
        return replace(report, health=health, buckets=tuple(done))


async def _bucket_report(admin: GarageAdmin, row: BucketReport) -> BucketReport:
    from fedi_tui.adapters.garage import GarageError

    try:
        bucket_id = row.id
        if bucket_id is None:
            found = await admin.find_bucket(row.name)
            if found is None:
                return row if row.state == "not-created" else replace(row, state="missing")
            bucket_id = found.id
        usage = await admin.usage(bucket_id)
    except GarageError as exc:
        if exc.reason == "missing":
            return replace(row, state="missing")
        return replace(row, state="error", error=str(exc))
    except FediError as exc:
        return replace(row, state="error", error=str(exc))
    return replace(
        row,
        id=bucket_id,
        state="ok",
        objects=usage.objects,
        bytes=usage.bytes,
        quota_bytes=usage.quota_bytes,
    )


async def gather_reports(workspace: Workspace, names: list[str]) -> list[StorageReport]:
    async def one(name: str) -> StorageReport:
        rows, _note = wanted_buckets(workspace, name)
        return await storage_report(name, workspace.spec.storage[name], workspace.path.parent, rows)

    return list(await asyncio.gather(*(one(n) for n in names)))


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
    notes = {n: wanted_buckets(workspace, n)[1] for n in names}
    reports = asyncio.run(gather_reports(workspace, names))
    healthy = all(r.ok for r in reports)
    if args.json:
        json.dump(status_document(reports, healthy), sys.stdout, indent=2)
        sys.stdout.write("\n")
        for report in reports:  # the document has them; say them where people look, too
            if report.error:
                print(f"fedi-tui: {report.error}", file=sys.stderr)
    else:
        for report in reports:
            print_report(report, notes[report.name])
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


def print_report(r: StorageReport, note: str | None) -> None:
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
    if note:
        print(f"  note: {note}")
    print()
