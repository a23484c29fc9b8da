"""Benchmark: plan the large state from empty and from fully recorded.

    .venv/bin/python -m tests.bench.bench_plan

Prints each time and its ratio to loading (parse + validate) the same state, in one run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fedi_tui.core.deploy.effects import apply_plan_effects
from fedi_tui.core.deploy.pipeline import plan_state
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import module_files
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import load_state
from tests.bench.gen_large_state import large_state_text
from tests.bench.timing import median_time
from tests.unit.plan_support import deploy_keys


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        path = tmp / "fedi.toml"
        path.write_text(large_state_text(), encoding="utf-8")
        modules = module_files(nix_modules_dir())
        spec = load_state(path).spec
        empty = RecordedState()
        keys = deploy_keys(spec)
        first = plan_state(spec, empty, modules, deploy_keys=keys)
        full = apply_plan_effects(empty, first.plan, first.config, first.rendered)
        assert plan_state(spec, full, modules, deploy_keys=keys).plan.empty
        load = median_time(lambda: load_state(path))
        from_empty = median_time(lambda: plan_state(spec, empty, modules, deploy_keys=keys))
        from_full = median_time(lambda: plan_state(spec, full, modules, deploy_keys=keys))
        machines, steps = len(first.config.machines), len(first.plan.steps)
        print(f"large state: {machines} machines, {steps} steps from empty")
        print(f"load + validate:          {load * 1000:7.1f} ms")
        timings = (("plan from empty", from_empty), ("plan from fully recorded", from_full))
        for label, took in timings:
            print(f"{label + ':':25} {took * 1000:7.1f} ms  ({took / load:.2f}x load)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
