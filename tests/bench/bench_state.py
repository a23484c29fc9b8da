"""Benchmark: load + validate + save of the large state vs tomllib + pydantic alone.

    .venv/bin/python -m tests.bench.bench_state

Prints both times and their ratio, measured in this one run (goal: ratio <= 3).
The save changes one key, so it really edits and writes the file.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path

from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.model import state_model
from fedi_tui.core.state.tomledit import Edit
from tests.bench.gen_large_state import large_state_text
from tests.bench.timing import median_time


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        path = tmp / "fedi.toml"
        path.write_text(large_state_text(), encoding="utf-8")
        model = state_model()
        counter = iter(range(10**6))

        def baseline() -> None:
            model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))

        def ours() -> None:
            loaded = load_state(path)
            n = next(counter)
            save_state(
                loaded,
                [Edit(("operators", "op250", "apps", "mastodon", "site_description"), f"run {n}")],
            )

        baseline()
        ours()
        base, full = median_time(baseline), median_time(ours)
        size = path.stat().st_size
        print(f"large state: {size:,} bytes, 500 operators, 1,500 app instances")
        print(f"tomllib parse + pydantic validate:      {base * 1000:7.1f} ms")
        print(f"fedi-tui load + validate + save (1 key): {full * 1000:7.1f} ms")
        print(f"ratio: {full / base:.2f}x (goal <= 3x)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
