"""logs, history and trust: reading what deployments did, and pinning host keys."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from fedi_tui.cli.common import EXIT_OK, open_workspace
from fedi_tui.core.deploy.events import LEVELS
from fedi_tui.core.deploy.history import (
    find_deployment,
    load_index,
    log_path,
    process_alive,
)
from fedi_tui.core.errors import FediError
from fedi_tui.core.views.logs import LogFilter
from fedi_tui.core.views.logstore import LogStore

FOLLOW_POLL = 0.1
"""Seconds `logs --follow` waits when the log has not grown."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "logs",
        help="show a deployment's log (filter, follow)",
        description="Print the log of a deployment: ID (or a prefix of it) or 'last' (the "
        "default). Filters apply to the whole log. --follow keeps printing a deployment "
        "that is still running, also one started by another process on this machine.",
    )
    p.add_argument("id", nargs="?", default="last", metavar="ID|last")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing while it runs")
    p.add_argument("--grep", metavar="REGEX", help="only lines matching REGEX")
    p.add_argument("--invert", "-v", action="store_true", help="only lines NOT matching --grep")
    p.add_argument("--machine", metavar="NAME", help="only this machine's lines")
    p.add_argument(
        "--level",
        choices=LEVELS,
        default="debug",
        help="lowest level shown (debug shows command output too; default debug)",
    )
    p.add_argument("--json", action="store_true", help="the events as JSON lines")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser(
        "history",
        help="list past deployments",
        description="Every deployment run on this state file: when, who, outcome, plan "
        "summary and each machine's outcome and configuration hash.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=cmd_history)


def cmd_logs(args: argparse.Namespace) -> int:
    """Print a run's log through the same LogStore the log screen reads it with: the same
    lines, the same filter over the whole log; --follow until the run has ended."""
    workspace = open_workspace(args)
    run = find_deployment(workspace.state_dir, args.id)
    path = log_path(workspace.state_dir, run.id)
    if not path.exists():
        raise FediError(f"{path}: no such deployment log")
    keep = LogFilter.make(args.grep, invert=args.invert, machine=args.machine, level=args.level)
    following = args.follow and run.outcome == "running" and process_alive(run.pid)
    store = LogStore(path)
    try:
        while True:
            got = store.poll()
            if got:
                for i in store.select(keep, got.start, got.stop):
                    print(store.event(i).to_json() if args.json else store.row(i).plain())
                if following:
                    sys.stdout.flush()
            elif not following or not store.growing():
                break
            else:
                time.sleep(FOLLOW_POLL)
    finally:
        store.close()
    if run.outcome == "running" and not process_alive(run.pid) and not store.finished:
        print(
            f"fedi-tui: deployment {run.id} never finished: its process {run.pid} is gone "
            "(killed?); the next apply plans what is left",
            file=sys.stderr,
        )
    return EXIT_OK


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "-"


def cmd_history(args: argparse.Namespace) -> int:

    workspace = open_workspace(args)
    runs = load_index(workspace.state_dir).deployments
    if args.json:
        json.dump(
            [r.model_dump(mode="json") for r in runs], sys.stdout, indent=2, ensure_ascii=False
        )
        sys.stdout.write("\n")
        return EXIT_OK
    if not runs:
        print(f"No deployments yet (history is kept in {workspace.state_dir / 'deployments'}).")
        return EXIT_OK
    print(f"{'ID':<22} {'STARTED (UTC)':<19}  {'BY':<20} {'OUTCOME':<12} SUMMARY")
    for r in runs:
        outcome: str = r.outcome
        if outcome == "running" and not process_alive(r.pid):
            outcome = "killed"
        print(f"{r.id:<22} {_when(r.started):<19}  {r.user[:20]:<20} {outcome:<12} {r.summary}")
        for name, m in r.machines.items():
            config = (m.config_hash or "-")[:12]
            print(f"    {name:<30} {m.state:<12} {config}")
    return EXIT_OK
