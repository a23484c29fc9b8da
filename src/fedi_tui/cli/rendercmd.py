"""render: write the NixOS configuration of every machine to a directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedi_tui.cli.common import EXIT_OK, open_workspace
from fedi_tui.core.deploy.renderdir import write_render_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="write each machine's NixOS configuration",
        description="Render one directory per machine: configuration.nix, the fediversity "
        "NixOS modules and manifest.json with a content hash. Secrets are never written; "
        "the configuration names the root-only files that hold them on the machine. "
        "A machine's directory from an earlier render is replaced, and that of a machine "
        "that no longer exists removed, only if it holds fedi-tui's manifest.json; "
        "links and other files are never followed or deleted.",
    )
    p.add_argument(
        "--out", metavar="DIR", type=Path, help="output directory (default: <state dir>/rendered)"
    )
    p.add_argument("--operator", metavar="ID", help="only this operator's machines")
    p.set_defaults(func=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    out: Path = args.out or workspace.state_dir / "rendered"
    config = workspace.config
    everything = {m.name for m in config.machines}
    operator: str | None = args.operator
    if operator:
        config = config.only_operator(operator)
    machines = config.machines
    result = write_render_dir(
        out,
        [workspace.rendered[m.name] for m in machines],
        existing=everything.__contains__,
        # with --operator, only that operator's old machines are tidied away
        prune=lambda manifest: operator is None or operator in manifest.get("operators", ()),
    )
    for machine in machines:
        rendered = workspace.rendered[machine.name]
        apps = ", ".join(a.module.name for a in machine.apps)
        print(f"{out / machine.name}  {rendered.hash[:12]}  {apps}")
    for name in result.removed:
        print(f"{out / name}  removed: no such machine in {workspace.path} any more")
    n = len(machines)
    gone = f"; removed {len(result.removed)}" if result.removed else ""
    print(f"rendered {n} machine{'s' if n != 1 else ''} into {out}{gone}")
    return EXIT_OK
