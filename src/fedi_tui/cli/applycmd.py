"""apply and undeploy: show the plan, confirm, run it with live progress, summarise.

Exit codes: 0 every machine succeeded (or nothing to do), 1 something failed,
3 something was rolled back (and nothing failed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from fedi_tui.cli.common import EXIT_OK, EXIT_USER, open_workspace
from fedi_tui.core.errors import FediError

if TYPE_CHECKING:  # the engine loads only when a deployment runs
    from fedi_tui.core.deploy.engine import RunResult
    from fedi_tui.core.deploy.pipeline import Planned
    from fedi_tui.core.deploy.plan import Step
    from fedi_tui.core.workspace import Workspace

EXIT_ROLLED_BACK = 3
EXIT_CODES = {
    "succeeded": EXIT_OK,
    "preflight-ok": EXIT_OK,
    "failed": EXIT_USER,
    "rolled-back": EXIT_ROLLED_BACK,
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected 1 or more")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--parallel",
        type=_positive,
        default=10,
        metavar="N",
        help="machines deployed at the same time (default 10)",
    )
    p.add_argument("--no-diff", action="store_true", help="leave configuration diffs out")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apply",
        help="deploy what the plan says (asks first)",
        description="Show the plan, ask for confirmation, then run it: provision machines, "
        "create buckets and keys, push each machine's configuration and secrets, build it "
        "on every machine first (preflight), switch with a lock-out guard, health-check, "
        "and roll back a machine whose switch or health check fails. Exit 0 all "
        "succeeded, 1 something failed, 3 something was rolled back, 130 interrupted.",
    )
    _common(p)
    p.add_argument("--operator", metavar="ID", help="only this operator's resources")
    p.add_argument("--machine", metavar="NAME", help="only this machine (and what it needs)")
    p.add_argument("--prune-data", action="store_true", help="also delete buckets of removed apps")
    p.add_argument(
        "--preflight-only",
        action="store_true",
        help="push and build every existing machine's new configuration, switch nothing",
    )
    p.set_defaults(func=cmd_apply, mutates=True)

    p = sub.add_parser(
        "undeploy",
        help="remove an operator's (or one app's) deployment (asks first)",
        description="Disable the operator's apps (or one app) in the state file, show the "
        "removal plan, ask, then apply it: configurations cleared from the machines, VMs "
        "destroyed, keys revoked. Buckets are kept unless --prune-data is given.",
    )
    _common(p)
    p.add_argument("--operator", metavar="ID", required=True, help="the operator to remove")
    p.add_argument("--app", metavar="APP", help="only this application of the operator")
    p.add_argument("--prune-data", action="store_true", help="also delete the buckets")
    p.set_defaults(func=cmd_undeploy, mutates=True, machine=None, preflight_only=False)


def cmd_apply(args: argparse.Namespace) -> int:
    from fedi_tui.core.deploy.livefacts import placing_runtimes

    workspace = open_workspace(args)
    planned = workspace.plan(operator=args.operator, prune_data=args.prune_data)
    placing = placing_runtimes(planned, workspace.spec)
    if placing and not args.preflight_only:
        # like `plan --live`: new and bigger VMs go where there is room now, not where
        # fedi.toml says there was (an offline node is avoided, and the plan says why);
        # the TUI's Apply does the same (core.views.liveplan)
        from fedi_tui.cli.plancmd import observe_live

        workspace = workspace.with_facts(observe_live(workspace, sys.stdout, only=set(placing)))
        planned = workspace.plan(operator=args.operator, prune_data=args.prune_data)
    return run(args, workspace, planned, verb="Apply")


def cmd_undeploy(args: argparse.Namespace) -> int:
    from fedi_tui.core.state.file import update_state
    from fedi_tui.core.state.model import validate_data
    from fedi_tui.core.state.tomledit import Edit

    workspace = open_workspace(args)
    operator = workspace.spec.operators[args.operator]
    enabled = [name for name, options in operator.apps.items() if options.enable]
    if args.app is not None and args.app not in enabled:
        raise FediError(
            f"--app {args.app}: operator {args.operator} has no enabled app of that name; "
            f"enabled: {', '.join(enabled) or 'none'}"
        )
    apps = [args.app] if args.app else enabled
    keys: list[tuple[str, ...]] = [("operators", args.operator, "apps", a, "enable") for a in apps]
    data = _with_disabled(workspace.loaded.data, keys)
    spec, problems = validate_data(data)
    if spec is None:
        raise FediError(f"the state without those apps does not validate: {problems[0][1]}")
    target = workspace.with_loaded(replace(workspace.loaded, data=data, spec=spec))
    planned = target.plan(operator=args.operator, prune_data=args.prune_data)

    def save() -> None:
        update_state(workspace.path, lambda _loaded: [Edit(k, False) for k in keys])
        print(f"Disabled {', '.join(apps) or 'nothing'} of {args.operator} in {workspace.path}.")

    return run(args, target, planned, verb="Remove", before_run=save if apps else None)


def _with_disabled(data: dict[str, object], keys: list[tuple[str, ...]]) -> dict[str, object]:
    import copy

    out = copy.deepcopy(data)
    for key in keys:
        node: object = out
        for part in key[:-1]:
            assert isinstance(node, dict)
            node = node[part]
        assert isinstance(node, dict)
        node[key[-1]] = False
    return out


def run(
    args: argparse.Namespace,
    workspace: Workspace,
    planned: Planned,
    *,
    verb: str,
    before_run: Callable[[], None] | None = None,
) -> int:
    from fedi_tui.cli.plancmd import print_plan
    from fedi_tui.core.deploy.lanes import select_machine
    from fedi_tui.core.deploy.steps.base import Desired

    desired = Desired(planned.config, planned.rendered, workspace.spec, workspace.modules)
    steps = planned.plan.steps
    if args.machine is not None:
        names = {m.name for m in planned.config.machines} | set(planned.recorded.machines)
        if args.machine not in names:
            raise FediError(
                f"--machine {args.machine}: no such machine; machines: {', '.join(sorted(names))}"
            )
        steps = select_machine(steps, args.machine, desired, workspace.recorded)
    if not steps:
        print("No changes: the recorded state matches fedi.toml. Nothing to do.")
        return EXIT_OK
    shown = replace(planned, plan=replace(planned.plan, steps=tuple(steps)))
    print_plan(shown, explain=False, diffs=not args.no_diff)
    _confirm(args, verb)
    if before_run is not None:
        before_run()
    result = execute(args, workspace, planned, tuple(steps))
    return EXIT_CODES.get(result.outcome, EXIT_USER)


def _confirm(args: argparse.Namespace, verb: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise FediError(
            f"{verb.lower()} asks for confirmation, but there is no terminal to ask on; "
            "give --yes to run it from a script"
        )
    print()
    answer = input(f"{verb} these changes? Only 'yes' is accepted: ")
    if answer.strip() != "yes":
        raise FediError(f"{verb.lower()} cancelled; nothing was changed")


def execute(
    args: argparse.Namespace, workspace: Workspace, planned: Planned, steps: tuple[Step, ...]
) -> RunResult:
    from fedi_tui.cli.progress import Printer, summary_table
    from fedi_tui.cli.wiring import build_ports
    from fedi_tui.core.deploy.engine import ApplyOptions
    from fedi_tui.core.deploy.runner import DeploymentRun

    printer = Printer(machines=tuple(m.name for m in planned.config.machines))
    options = ApplyOptions(parallel=args.parallel, preflight_only=args.preflight_only)
    with DeploymentRun(
        workspace, planned, build_ports(workspace), sinks=[printer], steps=steps, options=options
    ) as run:
        print()
        print(f"Deployment {run.id} (log: {run.log_path})")
        result = asyncio.run(run.run())
        machines = run.recorded.machines
    hashes = {name: rec.config_hash for name, rec in machines.items() if name in result.machines}
    summary_table(run.id, result.outcome, result.machines, result.messages, hashes, printer)
    return result
