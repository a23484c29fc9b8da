"""Helpers the machine steps share: expanding commands, capturing short outputs, timeouts."""

from __future__ import annotations

import asyncio
import posixpath
import shlex
from collections.abc import Sequence

from fedi_tui.core.deploy.ports import MachineShell
from fedi_tui.core.deploy.steps.base import StepContext, StepFailed
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.machinespec import DeploySpec


def config_command(template: Sequence[str], deploy: DeploySpec, nixpkgs: str | None) -> list[str]:
    """A preflight/activate command with `{config}` and `{dir}` filled in (and `-I nixpkgs=`)."""
    config = posixpath.join(deploy.config_dir, "configuration.nix")
    argv = [a.replace("{config}", config).replace("{dir}", deploy.config_dir) for a in template]
    if nixpkgs is not None:
        argv += ["-I", f"nixpkgs={nixpkgs}"]
    return argv


async def run_logged(
    ctx: StepContext,
    shell: MachineShell,
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
) -> int:
    """Run a command, its output going to the log; its exit status (TimeoutError → StepFailed)."""
    try:
        async with asyncio.timeout(timeout):
            return await shell.run(argv, on_line=ctx.line_sink(), check=False)
    except TimeoutError:
        raise StepFailed(
            f"{what} did not finish within {timeout:g} s on {shell.target} and was stopped: "
            f"`{shlex.join(argv)}`; raise the runtime's deploy timeout if it needs longer"
        ) from None


async def output_of(shell: MachineShell, argv: Sequence[str], *, timeout: float) -> str:
    """The first line a short command prints ('' when it prints nothing or fails)."""
    lines: list[str] = []

    def keep(stream: str, line: str) -> None:
        if stream == "stdout":
            lines.append(line)

    try:
        async with asyncio.timeout(timeout):
            status = await shell.run(argv, on_line=keep, check=False)
    except TimeoutError:
        raise FediError(f"`{shlex.join(argv)}` did not answer within {timeout:g} s") from None
    return lines[0].strip() if status == 0 and lines else ""
