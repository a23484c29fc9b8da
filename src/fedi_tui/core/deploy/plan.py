"""Plan: the ordered steps that turn the recorded state into the configuration.

`make_plan` is a pure function of the desired configuration, its rendered
files and the recorded state. Steps name their dependencies; the list is in a
valid order (dependencies first), stable for the same inputs.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from fedi_tui.core.deploy.configuration import Configuration, Machine
from fedi_tui.core.deploy.details import (
    ActivateDetail,
    BucketDetail,
    ClearDetail,
    DestroyVmDetail,
    Detail,
    HealthDetail,
    KeyDetail,
    PushDetail,
    QuotaDetail,
    ResizeDetail,
    SecretsDetail,
    StopVmDetail,
    VmDetail,
)
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import RenderedMachine

Action = Literal["create", "change", "destroy", "check"]
StepKind = Literal[
    "create-vm",
    "resize-vm",
    "create-bucket",
    "set-quota",
    "create-key",
    "generate-secrets",
    "push-config",
    "activate",
    "health-check",
    "clear-config",
    "stop-vm",
    "destroy-vm",
    "revoke-key",
    "delete-bucket",
]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    target: str
    action: Action
    depends_on: tuple[str, ...] = ()
    detail: Detail = field(default_factory=Detail)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.target}"

    def describe(self) -> str:
        """`kind target: why (key=value, …)`; `why` says what a step is for when its
        mark alone could mislead (a `~ push-config` of a machine being created)."""
        why = self.detail.why
        extra = ", ".join(
            f"{k}={_show(v)}" for k, v in self.detail.items() if k != "why" and v not in (None, "")
        )
        return (
            f"{self.kind} {self.target}"
            + (f": {why}" if why else "")
            + (f" ({extra})" if extra else "")
        )


def _show(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class Summary:
    """Resources (machines, buckets, keys) to create, change or destroy — not steps: the
    configuration push of a new machine is part of creating it."""

    create: int
    change: int
    destroy: int

    def __str__(self) -> str:
        return f"{self.create} to create, {self.change} to change, {self.destroy} to destroy"


@dataclass(frozen=True)
class MachineDiff:
    machine: str
    diff: str
    """Unified diff of configuration.nix, deployed → rendered ('' for a new machine)."""
    changed_files: tuple[str, ...]
    """Other rendered files whose content changed (the fediversity modules)."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    diffs: tuple[MachineDiff, ...]
    kept_buckets: tuple[str, ...]
    """Buckets of removed apps, kept because --prune-data was not given."""
    summary: Summary

    @property
    def empty(self) -> bool:
        return not self.steps


def make_plan(
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
    recorded: RecordedState,
    *,
    prune_data: bool = False,
) -> Plan:
    steps: list[Step] = []
    diffs: list[MachineDiff] = []
    created: set[str] = set()
    changed: set[str] = set()
    destroyed: set[str] = set()

    for b in config.buckets:
        rec = recorded.buckets.get(b.name)
        if rec is None:
            detail = BucketDetail(b.storage, b.quota_gib, b.public)
            steps.append(Step("create-bucket", b.name, "create", (), detail))
            created.add(f"bucket:{b.name}")
        elif rec.quota_gib != b.quota_gib:
            steps.append(
                Step("set-quota", b.name, "change", (), QuotaDetail(b.quota_gib, rec.quota_gib))
            )
            changed.add(f"bucket:{b.name}")
        if b.key_name not in recorded.keys:
            deps = (f"create-bucket:{b.name}",) if rec is None else ()
            steps.append(Step("create-key", b.key_name, "create", deps, KeyDetail(b.name)))
            created.add(f"key:{b.key_name}")

    for m in config.machines:
        steps += _machine_steps(m, rendered[m.name], recorded, config, created, changed, diffs)

    removals = _removals(config, recorded, prune_data, destroyed)
    steps += removals
    kept = tuple(
        sorted(
            name
            for name in recorded.buckets
            if name not in {b.name for b in config.buckets} and not prune_data
        )
    )
    ordered = _order(steps)
    return Plan(
        ordered,
        tuple(diffs),
        kept,
        Summary(len(created), len(changed - created), len(destroyed)),
    )


def _machine_steps(
    m: Machine,
    rendered: RenderedMachine,
    recorded: RecordedState,
    config: Configuration,
    created: set[str],
    changed: set[str],
    diffs: list[MachineDiff],
) -> list[Step]:
    steps: list[Step] = []
    rec = recorded.machines.get(m.name)
    ready: tuple[str, ...] = ()
    if m.kind == "proxmox":
        if rec is None or rec.vmid is None or not rec.ready:
            detail = VmDetail(
                m.runtime, m.node, m.vmid, m.address, m.cores, m.memory_gib, m.disk_gib
            )
            steps.append(Step("create-vm", m.name, "create", (), detail))
            created.add(f"machine:{m.name}")
            ready = (f"create-vm:{m.name}",)
        elif (rec.cores, rec.memory_gib) != (m.cores, m.memory_gib) or m.disk_gib > rec.disk_gib:
            resize = ResizeDetail(
                m.cores,
                m.memory_gib,
                max(m.disk_gib, rec.disk_gib),
                f"{rec.cores} cores, {rec.memory_gib} GiB, {rec.disk_gib} GiB disk",
            )
            steps.append(Step("resize-vm", m.name, "change", (), resize))
            changed.add(f"machine:{m.name}")
            ready = (f"resize-vm:{m.name}",)

    created_vm = bool(ready) and ready[0].startswith("create-vm:")
    needs = list(ready) if created_vm else []
    for app in m.apps:
        if app.key not in recorded.secrets:
            names = [s.name for s in app.module.secrets]
            key_dep = f"create-key:{app.key}" if app.key not in recorded.keys else None
            steps.append(
                Step(
                    "generate-secrets",
                    app.key,
                    "create",
                    (key_dep,) if key_dep else (),
                    SecretsDetail(tuple(names)),
                )
            )
            needs.append(f"generate-secrets:{app.key}")
        elif app.key not in recorded.keys:
            needs.append(f"create-key:{app.key}")

    deployed = rec.config_hash if rec else None
    if deployed != rendered.hash or needs:
        if rec is not None and deployed is not None and deployed != rendered.hash:
            changed.add(f"machine:{m.name}")
            why = "its configuration changed"
        elif rec is None or deployed is None:
            created.add(f"machine:{m.name}")
            why = "first configuration of a new machine"
        elif any(n.startswith("generate-secrets:") for n in needs):
            why = "configuration unchanged, new secrets to install"
        else:
            why = "configuration unchanged, a new S3 key to install"
        diffs.append(
            _diff(m.name, rendered, rec.configuration if rec else None, rec.files if rec else {})
        )
        push = PushDetail(why, rendered.hash[:12], m.address)
        steps.append(Step("push-config", m.name, "change", tuple(needs), push))
        steps.append(
            Step("activate", m.name, "change", (f"push-config:{m.name}",), ActivateDetail(why))
        )
        steps.append(_health(m, (f"activate:{m.name}",)))
    elif ready or (rec is not None and not rec.healthy):
        steps.append(_health(m, ready))
    return steps


def _health(m: Machine, deps: tuple[str, ...]) -> Step:
    urls = [a.requirements.health_url for a in m.apps]
    return Step("health-check", m.name, "check", deps, HealthDetail(tuple(urls)))


def _diff(
    name: str, rendered: RenderedMachine, before: str | None, files: Mapping[str, str]
) -> MachineDiff:
    after = rendered.files["configuration.nix"]
    text = ""
    if before is not None:
        text = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"{name}/configuration.nix (deployed)",
                f"{name}/configuration.nix (rendered)",
            )
        )
    others: tuple[str, ...] = ()
    if files:
        others = tuple(
            sorted(
                path
                for path, content in rendered.files.items()
                if path not in ("configuration.nix", "manifest.json")
                and files.get(path) != hashlib.sha256(content.encode()).hexdigest()
            )
        )
    return MachineDiff(name, text, others)


def _removals(
    config: Configuration, recorded: RecordedState, prune_data: bool, destroyed: set[str]
) -> list[Step]:
    steps: list[Step] = []
    wanted = {m.name for m in config.machines}
    gone: list[str] = []
    for name, rec in sorted(recorded.machines.items()):
        if name in wanted:
            continue
        if rec.kind == "proxmox":
            steps.append(Step("stop-vm", name, "destroy", (), StopVmDetail(rec.vmid, rec.node)))
            steps.append(
                Step("destroy-vm", name, "destroy", (f"stop-vm:{name}",), DestroyVmDetail(rec.vmid))
            )
            gone.append(f"destroy-vm:{name}")
        else:
            steps.append(Step("clear-config", name, "destroy", (), ClearDetail(rec.address)))
            gone.append(f"clear-config:{name}")
        destroyed.add(f"machine:{name}")
    wanted_keys = {b.key_name for b in config.buckets}
    for key, krec in sorted(recorded.keys.items()):
        if key not in wanted_keys:
            steps.append(Step("revoke-key", key, "destroy", tuple(gone), KeyDetail(krec.bucket)))
            destroyed.add(f"key:{key}")
    if prune_data:
        wanted_buckets = {b.name for b in config.buckets}
        for bucket in sorted(recorded.buckets):
            if bucket not in wanted_buckets:
                revokes = tuple(
                    f"revoke-key:{k}"
                    for k, kr in sorted(recorded.keys.items())
                    if kr.bucket == bucket and k not in wanted_keys
                )
                steps.append(Step("delete-bucket", bucket, "destroy", (*gone, *revokes)))
                destroyed.add(f"bucket:{bucket}")
    return steps


def _order(steps: list[Step]) -> tuple[Step, ...]:
    """Dependencies first; otherwise keep the order steps were made in."""
    ids = {s.id for s in steps}
    for step in steps:
        unknown = set(step.depends_on) - ids
        if unknown:  # pragma: no cover - a planner bug, caught by the property tests
            raise ValueError(f"{step.id} depends on steps not in the plan: {sorted(unknown)}")
    pending = list(steps)
    done: set[str] = set()
    out: list[Step] = []
    while pending:
        for n, step in enumerate(pending):
            if all(d in done for d in step.depends_on):
                out.append(step)
                done.add(step.id)
                del pending[n]
                break
        else:  # pragma: no cover - the planner never makes cycles
            raise ValueError("dependency cycle in plan")
    return tuple(out)
