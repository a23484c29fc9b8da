"""migrate: move an operator to another runtime and storage, phase by phase, resumable.

Exit codes: 0 the phases ran (or --finish / --abort completed), 1 a phase failed
(the message says what to do; running the command again resumes), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from fedi_tui.cli.applycmd import _confirm, _positive
from fedi_tui.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER, open_workspace
from fedi_tui.core.errors import FediError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate",
        help="move an operator to another runtime and storage (asks first)",
        description="Show the migration plan, ask, then run its phases: provision the target "
        "(services kept stopped), freeze the source, copy the databases and the objects, "
        "reuse the secrets (and run each app's host change for --new-domain), verify the "
        "DNS records with --resolver, start and health-check the target. Each phase is "
        "recorded: running the command again resumes where it stopped. --finish then "
        "decommissions the source and switches fedi.toml; --abort (before --finish) "
        "starts the source again and removes the target.",
    )
    p.add_argument("--operator", metavar="ID", required=True, help="the operator to move")
    p.add_argument("--to-runtime", metavar="R", help="the runtime to move to")
    p.add_argument("--to-storage", metavar="S", help="the storage to move to")
    p.add_argument("--new-domain", metavar="D", help="the operator's new domain")
    p.add_argument(
        "--resolver",
        metavar="ADDR:PORT",
        help="the DNS resolver that verifies the records (only this one is asked)",
    )
    p.add_argument(
        "--dns-timeout",
        type=_positive,
        default=600,
        metavar="SECONDS",
        help="how long the DNS phase waits for the records (default 600; resumable)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--parallel", type=_positive, default=10, metavar="N", help=argparse.SUPPRESS)
    end = p.add_mutually_exclusive_group()
    end.add_argument(
        "--finish", action="store_true", help="decommission the source (after the phases)"
    )
    end.add_argument(
        "--abort", action="store_true", help="start the source again and remove the target"
    )
    p.add_argument(
        "--prune-data", action="store_true", help="with --finish: also delete the source buckets"
    )
    p.set_defaults(func=cmd_migrate, mutates=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from fedi_tui.cli.progress import Printer
    from fedi_tui.cli.wiring import build_ports
    from fedi_tui.core.deploy.engine import ApplyOptions
    from fedi_tui.core.deploy.runner import who
    from fedi_tui.core.migrate.plan import migration_plan
    from fedi_tui.core.migrate.record import TITLES, save_migration
    from fedi_tui.core.migrate.run import MigrationRun
    from fedi_tui.core.migrate.slot import target_view
    from fedi_tui.core.migrate.start import begin, current

    if args.prune_data and not args.finish:
        raise FediError("--prune-data goes with --finish (it deletes the source's buckets)")
    workspace = open_workspace(args)
    user = who()
    if args.finish or args.abort:
        record = current(workspace, args.operator)
        if record is None:
            raise FediError(f"operator {args.operator} has no migration under way")
        verb = "finish" if args.finish else "abort"
        print(f"Migration of {args.operator}: {record.status}.")
        print(f"  {TITLES[verb]}")
        if args.finish:
            print(f"  source machines on {record.source.runtime} are destroyed or cleared; ")
            print(
                f"  its buckets on {record.source.storage} are "
                + ("deleted" if args.prune_data else "kept")
            )
        new = False
    else:
        record, new = begin(
            workspace,
            args.operator,
            runtime=args.to_runtime,
            storage=args.to_storage,
            domain=args.new_domain,
            resolver=args.resolver,
            user=user,
        )
        ports = build_ports(workspace)
        if args.resolver is not None:
            ports.resolver(args.resolver)  # a bad address is refused before anything runs
        plan = migration_plan(workspace, target_view(workspace, record), record)
        for line in plan.lines():
            print(line)
        if not new:
            print(f"\nResuming at phase {record.next_phase() or 'none (all done)'}.")
        if record.status == "migrated":
            print("Every phase is done: --finish decommissions the source, --abort goes back.")
            return EXIT_OK
        verb = "migrate" if new else "resume"
    print()
    _confirm(args, verb.capitalize())
    if new:
        save_migration(workspace.state_dir, record)
    printer = Printer()
    run = MigrationRun(
        workspace,
        record,
        build_ports(workspace),
        sinks=[printer],
        options=ApplyOptions(parallel=args.parallel),
        dns_timeout=float(args.dns_timeout),
        user=user,
    )
    if not (args.finish or args.abort):
        save_migration(workspace.state_dir, record)  # a resolver given now is kept
    with run:
        print(f"Migration run {run.id} (log: {run.log_path})")
        if args.finish:
            outcome = asyncio.run(run.finish(prune_data=args.prune_data))
        elif args.abort:
            outcome = asyncio.run(run.abort())
        else:
            outcome = asyncio.run(run.run())
    print()
    print(f"Migration of {args.operator}: {run.record.status} ({outcome}).")
    if outcome == "succeeded":
        return EXIT_OK
    if outcome == "interrupted":
        return EXIT_INTERRUPTED
    again = " --finish" if args.finish else " --abort" if args.abort else ""
    print(
        f"fedi-tui: run `fedi-tui migrate --operator {args.operator}{again}` again to resume",
        file=sys.stderr,
    )
    return EXIT_USER
