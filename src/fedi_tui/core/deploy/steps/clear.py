"""clear-config: take fedi-tui's apps off a NixOS host that no longer runs any.

The host is switched (with the lock-out guard, like any activation) to its
base system — its own hardware configuration, sshd and fedi-tui's key, no
apps — and then fedi-tui's secret files and managed directory are removed.
"""

from __future__ import annotations

from typing import ClassVar

from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import render_machine
from fedi_tui.core.deploy.steps.activate import nixpkgs_of, switch_guarded
from fedi_tui.core.deploy.steps.base import (
    Observed,
    StepContext,
    StepFailed,
    Target,
    machine_lane,
)


class ClearConfig:
    kinds: ClassVar[tuple[StepKind, ...]] = ("clear-config",)
    state: ClassVar[MachineState] = "removing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        name = ctx.step.target
        rec = ctx.recorded.machines[name]
        if rec.runtime not in ctx.desired.spec.runtimes:
            raise StepFailed(
                f"{name}: its runtime {rec.runtime} is no longer in the state file, so fedi-tui "
                "cannot reach it; put the runtime back to remove the apps, or forget the machine"
            )
        deploy = ctx.desired.deploy_settings(rec.runtime)
        base = Machine(
            name=name,
            runtime=rec.runtime,
            kind=rec.kind,
            storage="",
            apps=(),
            cores=rec.cores,
            memory_gib=rec.memory_gib,
            disk_gib=rec.disk_gib,
            address=rec.address,
        )
        key = read_deploy_keys(ctx.desired.spec, ctx.state_file, [rec.runtime])[rec.runtime]
        rendered = render_machine(ctx.desired.spec, base, ctx.desired.modules, deploy_key=key)
        shell = await ctx.shell()
        ctx.phase("pushing the base configuration (no apps)", "removing")
        await shell.push_tree(rendered.files, deploy.config_dir)
        await switch_guarded(ctx, shell, deploy, nixpkgs_of(ctx, rec.runtime))
        ctx.phase("removing secrets and the managed directory", "removing")
        removed = [d for d in (deploy.secrets_dir, deploy.config_dir) if await shell.remove_tree(d)]
        ctx.log(f"{name}: apps removed; deleted {', '.join(removed) or 'nothing more'}")
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        machines = dict(recorded.machines)
        machines.pop(step.target, None)
        return recorded.model_copy(update={"machines": machines})
