"""health-check: every app on the machine answers; then its settings without a NixOS option.

Each app's check (`deploy.health`, on the machine itself) is retried until
`deploy.health_timeout`. When the machine was switched in this run and an app
never answers, the machine is switched back ("rolled back"). Once all answer,
the apps' post-deploy settings run through their own admin commands
(`AppModule.admin_commands`), each idempotent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import ClassVar

from fedi_tui.core.apps.base import AdminCommand
from fedi_tui.core.deploy.configuration import AppInstance
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.ports import MachineShell, Stream
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.steps.activate import roll_back
from fedi_tui.core.deploy.steps.base import (
    Observed,
    StepContext,
    StepFailed,
    Target,
    machine_lane,
)
from fedi_tui.core.state.machinespec import DeploySpec

RETRY_INTERVAL = 2.0
"""Seconds between two health checks of an app that does not answer yet."""


def health_command(deploy: DeploySpec, app: AppInstance) -> list[str]:
    url = app.requirements.health_url
    path = app.module.health_path
    domain = app.requirements.domain
    return [
        a.replace("{url}", url).replace("{domain}", domain).replace("{path}", path)
        for a in deploy.health
    ]


async def _check(ctx: StepContext, shell: MachineShell, argv: list[str], deadline: float) -> str:
    """'' once the check passes; else the last complaint when the deadline passed."""
    return await wait_healthy(shell, argv, deadline, lambda text: ctx.log(text, "stderr"))


async def wait_healthy(
    shell: MachineShell, argv: list[str], deadline: float, log: Callable[[str], None]
) -> str:
    """Run a health check until it passes ('') or `deadline` (monotonic) passed: then the
    last complaint. Each failed try is logged as 'not healthy yet: …'."""
    last = ""
    lines: list[str] = []

    def keep(stream: Stream, line: str) -> None:
        lines.append(line)

    while True:
        lines.clear()
        remaining = max(deadline - time.monotonic(), 1.0)
        try:
            async with asyncio.timeout(remaining):
                status = await shell.run(argv, on_line=keep, check=False)
        except TimeoutError:
            status, lines = -1, [f"no answer within {remaining:.0f} s"]
        if status == 0:
            return ""
        last = next((ln for ln in reversed(lines) if ln.strip()), f"exit status {status}")
        if time.monotonic() + RETRY_INTERVAL >= deadline:
            return last
        log(f"not healthy yet: {last}")
        await asyncio.sleep(RETRY_INTERVAL)


async def run_admin(
    ctx: StepContext, shell: MachineShell, command: AdminCommand, timeout: float
) -> None:
    """An app setting: its command, or when that fails its fallback (e.g. create if missing)."""
    sink = None if command.quiet else ctx.line_sink()

    async def run(argv: tuple[str, ...]) -> int:
        try:
            async with asyncio.timeout(timeout):
                return await shell.run(argv, on_line=sink, check=False)
        except TimeoutError:
            raise StepFailed(
                f"{command.description} did not finish within {timeout:g} s on {shell.target}"
            ) from None

    status = await run(command.argv)
    if status != 0 and command.fallback:
        status = await run(command.fallback)
    if status != 0:
        program = " ".join((command.fallback or command.argv)[:2])
        raise StepFailed(
            f"{command.description} failed on {shell.target}: `{program} …` exited {status}"
        )
    ctx.log(f"{command.description}: done")


class HealthCheck:
    kinds: ClassVar[tuple[StepKind, ...]] = ("health-check",)
    state: ClassVar[MachineState] = "checking"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        machine = ctx.desired.machine(ctx.step.target)
        deploy = ctx.desired.deploy_settings(machine.runtime)
        shell = await ctx.shell()
        switched = f"activate:{machine.name}" in ctx.step.depends_on
        deadline = time.monotonic() + deploy.health_timeout
        for app in machine.apps:
            argv = health_command(deploy, app)
            ctx.phase(f"checking {app.requirements.health_url}", "checking")
            problem = await _check(ctx, shell, argv, deadline)
            if not problem:
                ctx.log(f"{app.key}: {app.requirements.health_url} answers")
                continue
            why = (
                f"{app.key} did not pass its health check within {deploy.health_timeout} s "
                f"({problem})"
            )
            if not switched:
                raise StepFailed(why)
            raise await roll_back(ctx, shell, deploy, None, why)
        for app in machine.apps:
            files = {n: v.get_secret_value() for n, v in ctx.secrets.app_files(app.key).items()}
            for command in app.module.admin_commands(app.options, app.requirements, files):
                ctx.phase(command.description, "checking")
                await run_admin(ctx, shell, command, deploy.command_timeout)
        return {"healthy": True}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        machines = dict(recorded.machines)
        machines[step.target] = machines[step.target].model_copy(
            update={"healthy": bool(observed.get("healthy", True))}
        )
        return recorded.model_copy(update={"machines": machines})
