"""backup/restore refusals that need no server: each a clear message and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedi_tui.cli import main
from fedi_tui.core.deploy.events import TransferProgress
from fedi_tui.core.portability.manifest import InstanceEntry, Manifest, write_manifest
from fedi_tui.core.views.logs import describe


def run(demo: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["-s", str(demo), *args])
    out, err = capsys.readouterr()
    return code, out, err


def a_backup(directory: Path, operator: str = "coop", **extra: object) -> Path:
    directory.mkdir()
    instances = (
        InstanceEntry(key="coop-mastodon", app="mastodon", app_module_version="x", machine="m"),
    )
    manifest = Manifest(
        fedi_tui_version="0",
        operator=operator,
        created="2026-12-02T00:00:00+00:00",
        state_file="fedi.toml",
        instances=instances,
        **extra,  # type: ignore[arg-type]
    )
    write_manifest(directory, manifest)
    return directory


def test_unknown_operator(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(demo_copy, "backup", "--operator", "nobody", capsys=capsys)
    assert code == 1 and "--operator nobody: no such operator; known: coop" in err


def test_backup_never_overwrites(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "there").mkdir()
    code, _, err = run(
        demo_copy, "backup", "--operator", "coop", "--to", str(tmp_path / "there"), capsys=capsys
    )
    assert code == 1 and "exists already: give another --to" in err


def test_restore_refuses_what_is_not_a_backup(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        demo_copy,
        "restore",
        "--operator",
        "coop",
        "--from",
        str(tmp_path / "no"),
        "--yes",
        capsys=capsys,
    )
    assert code == 1 and "no such backup directory" in err
    (tmp_path / "half").mkdir()
    code, _, err = run(
        demo_copy,
        "restore",
        "--operator",
        "coop",
        "--from",
        str(tmp_path / "half"),
        "--yes",
        capsys=capsys,
    )
    assert code == 1 and "not a complete backup" in err
    (tmp_path / "half/manifest.json").write_text('{"format": 1, "operator": ')
    code, _, err = run(
        demo_copy,
        "restore",
        "--operator",
        "coop",
        "--from",
        str(tmp_path / "half"),
        "--yes",
        capsys=capsys,
    )
    assert code == 1 and "not a fedi-tui backup manifest" in err and "Traceback" not in err


def test_restore_refuses_paths_outside_the_backup(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = a_backup(tmp_path / "bk")
    data = json.loads((backup / "manifest.json").read_text())
    data["configuration"] = [{"path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}]
    (backup / "manifest.json").write_text(json.dumps(data))
    code, _, err = run(
        demo_copy, "restore", "--operator", "coop", "--from", str(backup), "--yes", capsys=capsys
    )
    assert code == 1 and "points outside the backup" in err


def test_restore_refuses_another_operators_backup(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = a_backup(tmp_path / "bk", operator="photoclub")
    code, _, err = run(
        demo_copy, "restore", "--operator", "coop", "--from", str(backup), "--yes", capsys=capsys
    )
    assert code == 1 and "a backup of operator photoclub, not of coop" in err


def test_restore_asks_and_without_a_terminal_needs_yes(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = a_backup(tmp_path / "bk")
    code, out, err = run(
        demo_copy, "restore", "--operator", "coop", "--from", str(backup), capsys=capsys
    )
    assert "every checksum matches" in out and "coop-mastodon" in out
    assert code == 1 and "give --yes" in err


def test_progress_reads_as_a_line() -> None:
    event = TransferProgress(
        deployment="d",
        at=0.0,
        step="objects:b",
        part="objects",
        what="coop-mastodon",
        bytes=3 * 1024**2,
        objects=120,
        total_bytes=9 * 1024**2,
        total_objects=400,
        seconds=2.0,
        skipped=5,
    )
    assert describe(event) == (
        "objects coop-mastodon: 120/400 objects, 3.0 MiB/9.0 MiB, 1.5 MiB/s, 60 objects/s, "
        "5 verified before, skipped"
    )


def test_read_only_refuses_backup_and_restore(
    demo_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fedi_tui.core import readonly

    monkeypatch.setattr(readonly, "_read_only", False)
    code, _, err = run(
        demo_copy,
        "--read-only",
        "backup",
        "--operator",
        "coop",
        "--to",
        str(tmp_path / "bk"),
        capsys=capsys,
    )
    assert code == 1 and "read-only session: refused to take a backup" in err
    assert not (tmp_path / "bk").exists() and not (tmp_path / ".bk.partial").exists()
    code, _, err = run(
        demo_copy,
        "--read-only",
        "restore",
        "--operator",
        "coop",
        "--from",
        str(tmp_path / "bk"),
        "--yes",
        capsys=capsys,
    )
    assert code == 1 and "read-only" in err


def test_every_app_with_postgresql_says_which_database_and_units() -> None:
    from fedi_tui.core.apps.registry import installed_apps

    apps = installed_apps()
    assert {"mastodon", "peertube", "pixelfed"} <= set(apps)
    for module in apps.values():
        if module.postgresql:
            assert module.data.database, module.name  # else backups would leave it out
        assert module.data.stop_units and module.data.units_to_start, module.name
