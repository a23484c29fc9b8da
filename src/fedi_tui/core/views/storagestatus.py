"""What `storage status` and the dashboard show of a storage: its health and the usage
of fedi-tui's buckets there, asked through the core's StorageAdmin port.

The buckets shown are the ones the recorded state says fedi-tui created there and
the ones the configuration wants there (not created until the next apply).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from fedi_tui.core.deploy.ports import StorageAdmin, StorageError, StorageHealth
from fedi_tui.core.errors import FediError
from fedi_tui.core.workspace import Workspace

GIB = 1024**3

BucketState = Literal["ok", "missing", "not-created", "unread", "error"]


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
    error_reason: str | None = None
    """How asking failed: a StorageError's reason ('transport', 'auth', …), or None."""
    buckets: tuple[BucketReport, ...] = field(default_factory=tuple)
    note: str | None = None
    """Why only some buckets are shown (the configuration could not be mapped)."""

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.health is not None
            and self.health.healthy
            and all(b.ok for b in self.buckets)
        )

    @property
    def summary(self) -> str:
        """One word or phrase for a table cell: 'healthy', 'DEGRADED', 'unreachable', …"""
        if self.health is None:
            return {"transport": "unreachable", "auth": "token refused"}.get(
                self.error_reason or "", "error (see storage status)" if self.error else "unknown"
            )
        h = self.health
        word = h.status if h.healthy else h.status.upper()
        troubled = sum(1 for b in self.buckets if not b.ok)
        if troubled:
            return f"{word}, {troubled} bucket{'s' if troubled != 1 else ''} need a look"
        return f"{word} ({h.nodes_up}/{h.nodes} nodes)"


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
    admin: StorageAdmin, admin_endpoint: str, rows: list[BucketReport], note: str | None = None
) -> StorageReport:
    """Ask one storage for its health and the usage of *rows* (never raises FediError)."""
    report = StorageReport(admin.name, admin_endpoint, note=note)
    try:
        health = await admin.health()
    except FediError as exc:
        reason = exc.reason if isinstance(exc, StorageError) else None
        return replace(report, error=str(exc), error_reason=reason)
    if health.status == "unavailable":  # every read would fail: say so once
        unread = tuple(r if r.state == "not-created" else replace(r, state="unread") for r in rows)
        return replace(report, health=health, buckets=unread)
    done = [await _bucket_report(admin, row) for row in rows]
    return replace(report, health=health, buckets=tuple(done))


async def _bucket_report(admin: StorageAdmin, row: BucketReport) -> BucketReport:
    try:
        bucket_id = row.id
        if bucket_id is None:
            found = await admin.find_bucket(row.name)
            if found is None:
                return row if row.state == "not-created" else replace(row, state="missing")
            bucket_id = found.id
        usage = await admin.usage(bucket_id)
    except StorageError as exc:
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


async def gather_reports(
    workspace: Workspace, names: list[str], storage: Callable[[str], StorageAdmin]
) -> list[StorageReport]:
    """The report of each storage in *names*, asked at the same time through *storage*
    (the Ports' storage factory; the caller closes what it made)."""

    async def one(name: str) -> StorageReport:
        rows, note = wanted_buckets(workspace, name)
        endpoint = workspace.spec.storage[name].admin_endpoint
        try:
            admin = storage(name)
        except FediError as exc:  # e.g. its token cannot be resolved
            return StorageReport(name, endpoint, error=str(exc), note=note)
        return await storage_report(admin, endpoint, rows, note)

    return list(await asyncio.gather(*(one(n) for n in names)))
