"""History as the TUI shows it: rows newest first, and each operator's last run."""

from __future__ import annotations

from fedi_tui.core.deploy.history import DeploymentRecord, HistoryIndex, MachineRun
from fedi_tui.core.views.history import history_rows, last_runs

DAY = 1_796_198_400.0  # 2026-12-02 08:00 UTC


def run(n: int, outcome: str, **machines: str) -> DeploymentRecord:
    return DeploymentRecord(
        id=f"run{n}",
        user="ann@noc\x1b[2J",
        state_file="fedi.toml",
        started=DAY + n * 86400,
        finished=DAY + n * 86400 + 60,
        outcome=outcome,  # type: ignore[arg-type]
        summary="1 to change",
        machines={
            m: MachineRun(state=s, config_hash=f"{m}{'0' * 20}")  # type: ignore[arg-type]
            for m, s in machines.items()
        },
    )


INDEX = HistoryIndex(
    deployments=(
        run(0, "succeeded", web="done", db="done"),
        run(1, "rolled-back", web="rolled-back"),
        run(2, "interrupted", db="interrupted"),
    )
)


def test_rows_are_newest_first_with_hashes_and_visible_text() -> None:
    rows = history_rows(INDEX)
    assert [r.id for r in rows] == ["run2", "run1", "run0"]
    assert rows[0].outcome == "cancelled" and rows[1].outcome == "rolled back"
    assert rows[0].started == "2026-12-04 08:00"
    assert rows[0].user == "ann@noc\\x1b[2J"  # a control character made visible
    assert [(m.name, m.config_hash) for m in rows[2].machines] == [
        ("web", "web000000000"),
        ("db", "db0000000000"),
    ]


def test_each_operator_gets_its_machines_last_run() -> None:
    said = last_runs(INDEX, {"shop": ["web"], "blog": ["db"], "new": ["cache"], "none": []})
    assert said == {
        "shop": "rolled back 12-03",
        "blog": "cancelled 12-04",
        "new": "never",
        "none": "never",
    }
