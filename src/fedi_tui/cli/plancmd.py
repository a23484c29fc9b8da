"""plan: what applying the state file would change."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from fedi_tui.cli.common import EXIT_CHANGES, EXIT_OK, open_workspace
from fedi_tui.core.deploy.livefacts import describe_runtime
from fedi_tui.core.deploy.observed import ObservedFacts, load_facts
from fedi_tui.core.deploy.pipeline import Planned
from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from fedi_tui.core.workspace import Workspace

PLAN_FORMAT = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plan",
        help="show what applying would change (exit 0: nothing, 2: changes)",
        description="Map every operator's apps onto the provider's resources, render their "
        "NixOS configurations and compare with what was recorded as done. Exit 0 when "
        "nothing would change, 2 when something would, 1 on error.",
    )
    p.add_argument("--json", action="store_true", help="print a machine-readable plan")
    p.add_argument("--operator", metavar="ID", help="only this operator's resources")
    p.add_argument(
        "--explain", action="store_true", help="say why each machine is placed where it is"
    )
    p.add_argument("--prune-data", action="store_true", help="also delete buckets of removed apps")
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--facts", metavar="FILE", help="observed node capacity (JSON) instead of declared"
    )
    source.add_argument(
        "--live",
        action="store_true",
        help="ask every Proxmox runtime for its capacity and taken VMIDs now (read-only)",
    )
    p.add_argument("--no-diff", action="store_true", help="leave out configuration diffs")
    p.set_defaults(func=cmd_plan)


def make(args: argparse.Namespace) -> Planned:
    workspace = open_workspace(args)
    facts = load_facts(Path(args.facts)) if args.facts else None
    if getattr(args, "live", False):
        facts = observe_live(workspace, to=sys.stderr if args.json else sys.stdout)
    return workspace.with_facts(facts).plan(operator=args.operator, prune_data=args.prune_data)


def observe_live(workspace: Workspace, to: TextIO, only: set[str] | None = None) -> ObservedFacts:
    """Observe every Proxmox runtime (or those in `only`) in parallel and say what was seen."""
    from fedi_tui.adapters.proxmox import observe_runtimes  # network code only when asked

    runtimes = {
        name: rt
        for name, rt in workspace.spec.runtimes.items()
        if isinstance(rt, ProxmoxRuntimeSpec) and (only is None or name in only)
    }
    if not runtimes:
        print("--live: no Proxmox runtimes to observe; using declared capacity", file=to)
        return ObservedFacts()
    facts = asyncio.run(observe_runtimes(runtimes, workspace.path.parent))
    for name, seen in facts.runtimes.items():
        print(describe_runtime(name, runtimes[name], seen), file=to)
    print(file=to)
    return facts


def cmd_plan(args: argparse.Namespace) -> int:
    planned = make(args)
    if args.json:
        json.dump(plan_document(planned), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print_plan(planned, explain=args.explain, diffs=not args.no_diff)
    return EXIT_OK if planned.plan.empty else EXIT_CHANGES


_MARK = {"create": "+", "change": "~", "destroy": "-", "check": "?"}


def print_plan(planned: Planned, *, explain: bool, diffs: bool) -> None:
    plan = planned.plan
    if explain:
        print("Placement:")
        for m in planned.config.machines:
            where = f"{m.node} vmid {m.vmid} {m.address}" if m.kind == "proxmox" else f"{m.address}"
            print(f"  {m.name} → {where}: {m.reason}")
        print()
    if plan.empty:
        print("No changes: the recorded state matches fedi.toml.")
    for step in plan.steps:
        after = f"  (after {', '.join(step.depends_on)})" if step.depends_on else ""
        print(f"  {_MARK[step.action]} {step.describe()}{after}")
    if diffs:
        for d in plan.diffs:
            if d.diff:
                print()
                print(d.diff.rstrip("\n"))
            if d.changed_files:
                print(f"  {d.machine}: module files changed: {', '.join(d.changed_files)}")
    for bucket in plan.kept_buckets:
        print(f"  note: bucket {bucket} of a removed app is kept; --prune-data deletes it")
    print()
    print(f"Plan: {plan.summary}.")


def plan_document(planned: Planned) -> dict[str, Any]:
    """The --json form; its shape is documented in the README and versioned by `format`."""
    plan = planned.plan
    return {
        "format": PLAN_FORMAT,
        "summary": {
            "create": plan.summary.create,
            "change": plan.summary.change,
            "destroy": plan.summary.destroy,
        },
        "steps": [
            {
                "id": s.id,
                "kind": s.kind,
                "target": s.target,
                "action": s.action,
                "depends_on": list(s.depends_on),
                "detail": s.detail.as_dict(),
            }
            for s in plan.steps
        ],
        "machines": [
            {
                "name": m.name,
                "kind": m.kind,
                **m.placement(),
                "apps": [a.key for a in m.apps],
                "config_hash": planned.rendered[m.name].hash,
                "reason": m.reason,
            }
            for m in planned.config.machines
        ],
        "diffs": {d.machine: d.diff for d in plan.diffs if d.diff},
        "kept_buckets": list(plan.kept_buckets),
    }
