"""What a step that did not succeed leaves in the recorded state (pure functions)."""

from __future__ import annotations

from fedi_tui.core.deploy.plan import Step
from fedi_tui.core.deploy.ports import HypervisorError
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.steps import handler_for
from fedi_tui.core.deploy.steps.base import Target
from fedi_tui.core.errors import FediError


def rolled_back(recorded: RecordedState, before: RecordedState, machine: str) -> RecordedState:
    """After a rollback the machine runs what it ran before the run: record that."""
    machines = dict(recorded.machines)
    previous = before.machines.get(machine)
    current = machines.get(machine)
    if previous is not None:
        machines[machine] = previous
    elif current is not None:  # a first deployment: it runs none of our configuration
        machines[machine] = current.model_copy(
            update={"config_hash": None, "configuration": None, "files": {}, "healthy": False}
        )
    return recorded.model_copy(update={"machines": machines})


def half_created(
    recorded: RecordedState, step: Step, target: Target, exc: FediError
) -> RecordedState | None:
    """A VM left half-made is recorded with its VMID, not ready: the next plan finishes it.

    None when nothing was left (or the step was not a VM creation).
    """
    if step.kind != "create-vm" or not isinstance(exc, HypervisorError):
        return None
    if exc.vmid is None or not exc.vm_left:
        return None
    observed: dict[str, object] = {"vmid": exc.vmid, "ready": False}
    if exc.node:
        observed["node"] = exc.node
    return handler_for(step.kind).record(recorded, step, target, observed)
