"""render: write the NixOS configuration of every machine to a directory."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fedi_tui.cli.common import EXIT_OK, open_workspace
from fedi_tui.core.atomicfile import write_atomic


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="write each machine's NixOS configuration",
        description="Render one directory per machine: configuration.nix, the fediversity "
        "NixOS modules and manifest.json with a content hash. Secrets are never written; "
        "the configuration names the root-only files that hold them on the machine.",
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
    if args.operator:
        config = config.only_operator(args.operator)
    machines = config.machines
    for machine in machines:
        rendered = workspace.rendered[machine.name]
        target = out / machine.name
        tmp = out / f".{machine.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, text in rendered.files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text.encode("utf-8"))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        print(f"{target}  {rendered.hash[:12]}  {', '.join(a.module.name for a in machine.apps)}")
    print(f"rendered {len(machines)} machine{'s' if len(machines) != 1 else ''} into {out}")
    return EXIT_OK
