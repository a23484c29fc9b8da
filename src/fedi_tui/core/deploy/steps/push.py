"""push-config: the rendered configuration and the apps' secret files onto the machine."""

from __future__ import annotations

from typing import ClassVar

from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.secretstore import SecretStore
from fedi_tui.core.deploy.steps.base import Observed, StepContext, Target, machine_lane

SECRET_MODE = 0o400
CONFIG_MODE = 0o600


def machine_secret_tree(secrets: SecretStore, machine: Machine) -> dict[str, str]:
    """`<app>/<file>` → content of every secret file of the apps on a machine."""
    tree: dict[str, str] = {}
    for app in machine.apps:
        for name, value in secrets.app_files(app.key).items():
            tree[f"{app.module.name}/{name}"] = value.get_secret_value()
    return tree


def secret_tree(ctx: StepContext, machine: str) -> dict[str, str]:
    """`<app>/<file>` → content of every secret file of the apps on a machine."""
    return machine_secret_tree(ctx.secrets, ctx.desired.machine(machine))


class PushConfig:
    kinds: ClassVar[tuple[StepKind, ...]] = ("push-config",)
    state: ClassVar[MachineState] = "pushing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        name = ctx.step.target
        machine = ctx.desired.machine(name)
        deploy = ctx.desired.deploy_settings(machine.runtime)
        rendered = ctx.desired.rendered[name]
        shell = await ctx.shell()
        ctx.phase(f"pushing the configuration to {deploy.config_dir}", "pushing")
        await shell.push_tree(rendered.files, deploy.config_dir, mode=CONFIG_MODE)
        secrets = secret_tree(ctx, name)
        ctx.phase(f"pushing {len(secrets)} secret files to {deploy.secrets_dir}", "pushing")
        await shell.push_tree(secrets, deploy.secrets_dir, mode=SECRET_MODE)
        ctx.log(
            f"pushed {len(rendered.files)} files (configuration {rendered.hash[:12]}) to "
            f"{deploy.config_dir} and {len(secrets)} secret files to {deploy.secrets_dir}"
        )
        return {}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        return recorded  # what was pushed counts only once it is activated
