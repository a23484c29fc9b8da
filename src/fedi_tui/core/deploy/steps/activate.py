"""activate: preflight, arm the lock-out guard, switch, confirm over a new connection.

1. preflight — every machine of the run builds its new configuration without
   switching (`deploy.preflight`); no machine switches before all have tried.
   A machine whose preflight fails is not touched.
2. the guard is armed (see `core.deploy.guard`), the profile link noted;
3. switch (`deploy.activate`); when it fails and the profile moved, switch back
   (`deploy.rollback`) → "rolled back";
4. confirm — log in again over a *new* connection and disarm the guard. If no
   login succeeds, the machine reverts by itself; fedi-tui waits for that,
   checks it and reports "rolled back (lost contact)".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import ClassVar

from fedi_tui.core.deploy import guard
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.ports import MachineShell
from fedi_tui.core.deploy.recorded import MachineRecord, RecordedState
from fedi_tui.core.deploy.render import base_modules
from fedi_tui.core.deploy.steps.base import (
    Observed,
    PreflightOnly,
    RolledBack,
    StepContext,
    StepFailed,
    Target,
    machine_lane,
)
from fedi_tui.core.deploy.steps.common import config_command, output_of, run_logged
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.machinespec import DeploySpec

RECONNECT_INTERVAL = 1.0
"""Seconds between login attempts while waiting for a machine to answer again."""


def nixpkgs_of(ctx: StepContext, runtime: str) -> str | None:
    """The nixpkgs the runtime's activation uses (`system.nixpkgs`), or the machine's own."""
    return ctx.desired.spec.runtimes[runtime].system.nixpkgs


async def _check_base_modules(ctx: StepContext, shell: MachineShell, runtime: str) -> None:
    """The files the configuration imports from the machine itself must be there."""
    for module in base_modules(ctx.desired.spec.runtimes[runtime]):
        if module.startswith("/") and await shell.run(["test", "-e", module], check=False) != 0:
            raise StepFailed(
                f"{shell.target} has no {module}, which its configuration imports to stay "
                "bootable (file systems, boot loader); create it (nixos-generate-config) or set "
                "the runtime's system.base_modules; nothing was switched"
            )


async def roll_back(
    ctx: StepContext, shell: MachineShell, deploy: DeploySpec, before: str | None, why: str
) -> FediError:
    """Switch back (when `before` is given: only if the profile moved from it).

    Returns the error to raise: RolledBack, or StepFailed when nothing had switched.
    """
    if before is not None:
        after = await output_of(
            shell, ["readlink", deploy.system_profile], timeout=deploy.command_timeout
        )
        if after == before:
            return StepFailed(f"{why}; the system profile did not move: nothing was switched")
    ctx.phase("rolling back to the previous configuration", "activating")
    status = await run_logged(
        ctx, shell, deploy.rollback, timeout=deploy.activate_timeout, what="the rollback"
    )
    if status != 0:
        raise StepFailed(
            f"{why}; the rollback `{' '.join(deploy.rollback)}` failed too (exit {status}): "
            f"log in to {shell.target} and switch back by hand"
        )
    return RolledBack(f"{why}; switched back to the previous configuration")


async def switch_guarded(
    ctx: StepContext, shell: MachineShell, deploy: DeploySpec, nixpkgs: str | None
) -> Observed:
    """Arm the guard, switch, confirm over a new connection; roll back when it fails."""
    before = await output_of(
        shell, ["readlink", deploy.system_profile], timeout=deploy.command_timeout
    )
    armed = deploy.guard != "off"
    if armed:
        ctx.phase("arming the lock-out guard", "activating")
        arm = guard.arm(
            deploy.guard,
            run_dir=deploy.run_dir,
            deployment=ctx.deployment,
            seconds=deploy.activate_timeout + deploy.confirm_seconds,
            profile=deploy.system_profile,
            before=before,
            rollback=deploy.rollback,
        )
        if (
            await run_logged(
                ctx, shell, arm, timeout=deploy.command_timeout, what="arming the guard"
            )
            != 0
        ):
            raise StepFailed(
                f"could not arm the lock-out guard on {shell.target} ({deploy.guard}); "
                "nothing was switched — set the runtime's deploy.guard to match the "
                "machine (systemd or background)"
            )
    ctx.phase("switching to the new configuration", "activating")
    try:
        status = await run_logged(
            ctx,
            shell,
            config_command(deploy.activate, deploy, nixpkgs),
            timeout=deploy.activate_timeout,
            what="the switch",
        )
    except StepFailed as exc:  # timed out, and stopped
        await _disarm_quietly(shell, deploy, ctx.deployment)
        raise await roll_back(ctx, shell, deploy, before, str(exc)) from None
    except FediError as exc:  # the connection broke while switching
        if not armed:
            raise
        ctx.log(f"lost the connection while switching: {exc}", "stderr")
        return await _await_contact(ctx, deploy, before, lost_while="switching")
    if status != 0:
        await _disarm_quietly(shell, deploy, ctx.deployment)
        raise await roll_back(
            ctx, shell, deploy, before, f"the switch failed on {shell.target} (exit {status})"
        )
    if not armed:
        return {}
    extend = guard.extend(
        run_dir=deploy.run_dir, deployment=ctx.deployment, seconds=deploy.confirm_seconds
    )
    try:
        await run_logged(
            ctx, shell, extend, timeout=deploy.command_timeout, what="the guard's deadline"
        )
    except FediError as exc:
        ctx.log(f"could not shorten the guard's deadline ({exc}); it stays longer", "stderr")
    return await _await_contact(ctx, deploy, before, lost_while=None)


async def _disarm_quietly(shell: MachineShell, deploy: DeploySpec, run: str) -> None:
    if deploy.guard == "off":
        return
    with contextlib.suppress(FediError):
        await shell.run(guard.disarm(run_dir=deploy.run_dir, deployment=run), check=False)


async def _await_contact(
    ctx: StepContext, deploy: DeploySpec, before: str, lost_while: str | None
) -> Observed:
    """Log in over a new connection and disarm the guard — or find that it fired.

    After a switch that returned, the guard's deadline is `confirm_seconds`
    away; after losing the connection while switching it is still the long
    one. Either way fedi-tui keeps trying to log in until the deadline has
    passed (plus as long again for the revert itself), then says what it found.
    """
    ctx.phase("confirming over a new SSH connection", "activating")
    wait = deploy.confirm_seconds
    if lost_while is not None:
        wait += deploy.activate_timeout
    give_up = time.monotonic() + wait + deploy.confirm_seconds
    last_error = "no new login succeeded"
    while True:
        try:
            fresh = await ctx.fresh_shell()
        except FediError as exc:
            last_error = str(exc)
            if time.monotonic() >= give_up:
                break
            ctx.log(f"new login failed, retrying: {exc}", "stderr")
            await asyncio.sleep(RECONNECT_INTERVAL)
            continue
        try:
            taken = await fresh.run(
                guard.disarm(run_dir=deploy.run_dir, deployment=ctx.deployment), check=False
            )
            now = await output_of(
                fresh, ["readlink", deploy.system_profile], timeout=deploy.command_timeout
            )
            if taken == 0 and lost_while is None:
                ctx.log("confirmed over a new connection; the guard is disarmed")
                return {}
            if taken == 0:  # we took the guard back after losing the connection
                why = f"lost the connection to {fresh.target} while {lost_while}"
                raise await roll_back(ctx, fresh, deploy, before, why)
        finally:
            await fresh.close()
        # the guard fired (its canary is gone): the machine reverts, or has reverted
        if now == before:
            raise RolledBack(
                f"could not log in again after switching ({last_error}); the machine "
                "switched back to its previous configuration by itself",
                lost_contact=True,
            )
        if time.monotonic() >= give_up:
            break
        await asyncio.sleep(RECONNECT_INTERVAL)
    raise StepFailed(
        f"lost contact with the machine after {lost_while or 'switching'} and it did not "
        f"answer as expected within {wait + deploy.confirm_seconds:g} s ({last_error}); its "
        "lock-out guard switches it back by itself — check it on its console"
    )


class Activate:
    kinds: ClassVar[tuple[StepKind, ...]] = ("activate",)
    state: ClassVar[MachineState] = "activating"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(step.target)

    async def execute(self, ctx: StepContext) -> Observed:
        machine = ctx.desired.machine(ctx.step.target)
        deploy = ctx.desired.deploy_settings(machine.runtime)
        nixpkgs = nixpkgs_of(ctx, machine.runtime)
        try:
            shell = await ctx.shell()
            await _check_base_modules(ctx, shell, machine.runtime)
            ctx.phase("preflight: building the new configuration", "preflight")
            status = await run_logged(
                ctx,
                shell,
                config_command(deploy.preflight, deploy, nixpkgs),
                timeout=deploy.activate_timeout,
                what="the preflight build",
            )
        finally:
            ctx.preflight_finished()
        if status != 0:
            raise StepFailed(
                f"preflight build failed on {shell.target} (exit {status}); nothing was "
                "switched — see the log lines above"
            )
        if ctx.preflight_only:
            raise PreflightOnly
        ctx.phase("waiting for the other machines' preflight", "preflight")
        await ctx.all_preflights_done()
        return await switch_guarded(ctx, shell, deploy, nixpkgs)

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        m = desired.machine(step.target)
        r = desired.rendered[step.target]
        machines = dict(recorded.machines)
        base = machines.get(step.target) or MachineRecord(
            runtime=m.runtime, kind=m.kind, address=m.address, operators=m.operators
        )
        manifest = json.loads(r.files["manifest.json"])
        machines[step.target] = base.model_copy(
            update={
                "config_hash": r.hash,
                "configuration": r.files["configuration.nix"],
                "files": dict(manifest["files"]),
                "operators": m.operators,
                "healthy": False,
            }
        )
        return recorded.model_copy(update={"machines": machines})
