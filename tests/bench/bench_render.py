"""Benchmark: render every machine of the large state; check all parse in one nix call.

    .venv/bin/python -m tests.bench.bench_render

Prints machines per second (goal >= 2,000/s) and the batched parse result.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from fedi_tui.adapters.nixtool import parse_files
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import module_files, render_all
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import load_state
from tests.bench.gen_large_state import large_state_text
from tests.unit.plan_support import deploy_keys


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        state = tmp / "fedi.toml"
        state.write_text(large_state_text(), encoding="utf-8")
        spec = load_state(state).spec
        modules = module_files(nix_modules_dir())
        t0 = time.perf_counter()
        config = map_resources(spec, RecordedState())
        rendered = list(render_all(spec, config, modules, deploy_keys(spec)).values())
        elapsed = time.perf_counter() - t0
        print(
            f"rendered {len(rendered)} machines in {elapsed * 1000:.0f} ms: "
            f"{len(rendered) / elapsed:,.0f} machines/s (goal >= 2,000/s)"
        )
        paths = []
        for r in rendered:
            path = tmp / "out" / r.name / "configuration.nix"
            path.parent.mkdir(parents=True)
            path.write_text(r.files["configuration.nix"], encoding="utf-8")
            paths.append(path)
        paths += [nix_modules_dir() / p.split("/", 1)[1] for p in modules]
        t0 = time.perf_counter()
        errors = parse_files(paths)
        verdict = "all parse" if not errors else f"{len(errors)} FAIL"
        took = time.perf_counter() - t0
        print(f"nix-instantiate --parse of {len(paths)} files, one call: {verdict} ({took:.2f} s)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
