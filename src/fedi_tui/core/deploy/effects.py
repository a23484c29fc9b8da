"""What a completed step changes in the recorded state.

The apply engine calls `record_step` after each step succeeds, with what the
outside world reported (the VMID Proxmox used, the bucket id Garage returned);
planning again after any interruption then yields only what is left to do.
Without observations the planned values are recorded, which is how tests
check that applying a plan and planning again gives an empty plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fedi_tui.core.deploy.configuration import Configuration
from fedi_tui.core.deploy.plan import Plan, Step
from fedi_tui.core.deploy.recorded import BucketRecord, KeyRecord, MachineRecord, RecordedState
from fedi_tui.core.deploy.render import RenderedMachine


def record_step(
    recorded: RecordedState,
    step: Step,
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
    observed: Mapping[str, Any] | None = None,
) -> RecordedState:
    seen = dict(observed or {})
    machines = dict(recorded.machines)
    buckets = dict(recorded.buckets)
    keys = dict(recorded.keys)
    secrets = dict(recorded.secrets)
    t = step.target
    kind = step.kind
    if kind in ("create-vm", "resize-vm"):
        m = config.machine(t)
        old = machines.get(t)
        machines[t] = MachineRecord(
            runtime=m.runtime,
            kind="proxmox",
            operators=m.operators,
            node=seen.get("node", m.node),
            vmid=seen.get("vmid", m.vmid if old is None else old.vmid),
            address=seen.get("address", m.address if old is None else old.address),
            cores=m.cores,
            memory_gib=m.memory_gib,
            disk_gib=max(m.disk_gib, old.disk_gib if old else 0),
            config_hash=old.config_hash if old else None,
            configuration=old.configuration if old else None,
            files=old.files if old else {},
        )
    elif kind in ("create-bucket", "set-quota"):
        b = next(b for b in config.buckets if b.name == t)
        old_b = buckets.get(t)
        buckets[t] = BucketRecord(
            storage=b.storage,
            operator=b.operator,
            bucket_id=seen.get("bucket_id", old_b.bucket_id if old_b else None),
            quota_gib=b.quota_gib,
            public=b.public,
        )
    elif kind == "create-key":
        b = next(b for b in config.buckets if b.key_name == t)
        keys[t] = KeyRecord(
            storage=b.storage,
            bucket=b.name,
            operator=b.operator,
            access_key_id=seen.get("access_key_id"),
        )
    elif kind == "generate-secrets":
        secrets[t] = tuple(str(n) for n in step.detail.get("files") or [])  # type: ignore[union-attr]
    elif kind == "activate":
        m = config.machine(t)
        r = rendered[t]
        old = machines.get(t)
        base = old or MachineRecord(
            runtime=m.runtime, kind=m.kind, address=m.address, operators=m.operators
        )
        files = _manifest_files(r)
        machines[t] = base.model_copy(
            update={
                "config_hash": r.hash,
                "configuration": r.files["configuration.nix"],
                "files": files,
                "healthy": False,
            }
        )
    elif kind == "health-check":
        machines[t] = machines[t].model_copy(update={"healthy": bool(seen.get("healthy", True))})
    elif kind in ("destroy-vm", "clear-config"):
        machines.pop(t, None)
    elif kind == "revoke-key":
        keys.pop(t, None)
    elif kind == "delete-bucket":
        buckets.pop(t, None)
    # push-config and stop-vm change nothing that is recorded on their own
    return recorded.model_copy(
        update={"machines": machines, "buckets": buckets, "keys": keys, "secrets": secrets}
    )


def _manifest_files(r: RenderedMachine) -> dict[str, str]:
    manifest = json.loads(r.files["manifest.json"])
    files: dict[str, str] = manifest["files"]
    return files


def apply_plan_effects(
    recorded: RecordedState,
    plan: Plan,
    config: Configuration,
    rendered: Mapping[str, RenderedMachine],
) -> RecordedState:
    """The recorded state after every step of the plan succeeded as planned."""
    for step in plan.steps:
        recorded = record_step(recorded, step, config, rendered)
    return recorded
