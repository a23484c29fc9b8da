"""`render --out DIR`: clear errors, old renders tidied, and nothing written through links.

DIR may be writable by someone else (and fedi-tui run as root), so every test
here plants what such a person could: links at names fedi-tui might use,
directories fedi-tui did not write, links inside an earlier render.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fedi_tui.cli import main
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import Edit

MACHINES = ["bare-1", "coop-mastodon", "coop-peertube", "photoclub-pixelfed"]


def _render(state: Path, out: Path, *more: str) -> int:
    return main(["-s", str(state), "render", "--out", str(out), *more])


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _disable(state: Path, operator: str, app: str) -> None:
    save_state(load_state(state), [Edit(("operators", operator, "apps", app, "enable"), False)])


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A directory with a file that must never be written or removed."""
    directory = tmp_path / "victim"
    directory.mkdir()
    (directory / "keep.txt").write_text("precious\n")
    return directory


def _untouched(victim: Path) -> bool:
    return _entries(victim) == ["keep.txt"] and (victim / "keep.txt").read_text() == "precious\n"


# --- clear errors -------------------------------------------------------------------


def test_out_on_a_file_is_a_clear_error(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a-file"
    out.write_text("not a directory\n")
    assert _render(demo_copy, out) == 1
    err = capsys.readouterr().err
    assert f"--out {out}: is a file, not a directory" in err and "internal error" not in err
    assert out.read_text() == "not a directory\n"


def test_out_that_cannot_be_created_is_a_clear_error(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "rendered"
    assert _render(demo_copy, out) == 1
    err = capsys.readouterr().err
    assert f"--out {out}: cannot create or open the directory" in err
    assert "internal error" not in err


def test_out_is_created_with_its_parents(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "rendered"
    assert _render(demo_copy, out) == 0
    assert _entries(out) == MACHINES


# --- earlier renders ----------------------------------------------------------------


def test_a_machine_that_no_longer_exists_is_removed_and_nothing_else(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    (out / "notes.txt").write_text("mine\n")
    (out / "mine").mkdir()
    (out / "mine" / "manifest.json").write_text('{"machine": "mine"}')  # not fedi-tui's
    (out / "other-machine").mkdir()  # a manifest naming another machine is not this one's
    (out / "other-machine" / "manifest.json").write_text(
        (out / "bare-1" / "manifest.json").read_text()
    )
    _disable(demo_copy, "photoclub", "pixelfed")
    capsys.readouterr()
    assert _render(demo_copy, out) == 0
    assert _entries(out) == [
        "bare-1",
        "coop-mastodon",
        "coop-peertube",
        "mine",
        "notes.txt",
        "other-machine",
    ]
    assert "photoclub-pixelfed  removed: no such machine" in capsys.readouterr().out


def test_with_operator_only_that_operators_old_machines_go(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    _disable(demo_copy, "photoclub", "pixelfed")
    _disable(demo_copy, "coop", "peertube")
    assert _render(demo_copy, out, "--operator", "coop") == 0
    assert _entries(out) == ["bare-1", "coop-mastodon", "photoclub-pixelfed"]
    assert _render(demo_copy, out) == 0
    assert _entries(out) == ["bare-1", "coop-mastodon"]


def test_a_directory_fedi_tui_did_not_write_is_refused_and_kept(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "bare-1").mkdir(parents=True)
    (out / "bare-1" / "precious.txt").write_text("mine\n")
    assert _render(demo_copy, out) == 1
    err = capsys.readouterr().err
    assert f"{out / 'bare-1'} exists but was not rendered by fedi-tui" in err
    assert "Nothing was written" in err
    assert _entries(out) == ["bare-1"]  # no other machine was written either
    assert _entries(out / "bare-1") == ["precious.txt"]


def test_a_file_at_a_machine_name_is_refused(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "bare-1").write_text("a file\n")
    assert _render(demo_copy, out) == 1
    assert "exists and is not a directory" in capsys.readouterr().err
    assert _entries(out) == ["bare-1"] and (out / "bare-1").read_text() == "a file\n"


def test_rendering_again_replaces_the_earlier_render(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    (out / "bare-1" / "stale.nix").write_text("{ }\n")
    save_state(load_state(demo_copy), [Edit(("provider", "contact"), "ops@demo-hosting.test")])
    assert _render(demo_copy, out) == 0
    assert not (out / "bare-1" / "stale.nix").exists()
    assert "ops@demo-hosting.test" in (out / "bare-1" / "configuration.nix").read_text()
    assert _entries(out) == MACHINES  # no temporary or old directories left


# --- links --------------------------------------------------------------------------


def test_a_link_at_a_machine_name_is_a_clear_error_and_nothing_is_left_behind(
    demo_copy: Path, tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "bare-1").symlink_to(victim)
    assert _render(demo_copy, out) == 1
    err = capsys.readouterr().err
    assert f"{out / 'bare-1'} is a symbolic link" in err and "internal error" not in err
    assert _entries(out) == ["bare-1"] and (out / "bare-1").readlink() == victim
    assert _untouched(victim)


def test_links_planted_at_temporary_names_are_not_followed(
    demo_copy: Path, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in MACHINES:  # the names an older fedi-tui used, and look-alikes of the new ones
        (out / f".{name}.tmp").symlink_to(victim)
        (out / f".{name}.000000000000.tmp").symlink_to(victim)
    assert _render(demo_copy, out) == 0
    assert _untouched(victim)
    for name in MACHINES:
        assert (out / name / "manifest.json").is_file()
        assert (out / f".{name}.000000000000.tmp").is_symlink()  # not ours: left alone


def test_links_inside_an_earlier_render_are_not_written_through(
    demo_copy: Path, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    config = out / "bare-1" / "configuration.nix"
    config.unlink()
    config.symlink_to(victim / "keep.txt")
    modules = out / "bare-1" / "fediversity"
    for child in modules.iterdir():
        child.unlink()
    modules.rmdir()
    modules.symlink_to(victim)
    assert _render(demo_copy, out) == 0
    assert _untouched(victim)
    assert config.is_file() and not config.is_symlink()
    assert modules.is_dir() and not modules.is_symlink()


def test_an_old_machine_that_is_a_link_is_not_removed(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    elsewhere = tmp_path / "elsewhere"
    (out / "photoclub-pixelfed").rename(elsewhere)
    (out / "photoclub-pixelfed").symlink_to(elsewhere)
    _disable(demo_copy, "photoclub", "pixelfed")
    assert _render(demo_copy, out) == 0
    assert (out / "photoclub-pixelfed").is_symlink()
    assert (elsewhere / "manifest.json").is_file()  # the render it points at is still there


def test_leftovers_of_a_killed_render_are_removed(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    leftover = out / ".bare-1.0123456789ab.tmp"
    (leftover / "fediversity").mkdir(parents=True)
    (leftover / "configuration.nix").write_text("{ }\n")
    assert _render(demo_copy, out) == 0
    assert _entries(out) == MACHINES


def test_files_are_written_with_ordinary_modes(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _render(demo_copy, out) == 0
    assert (out / "bare-1").stat().st_mode & 0o777 == 0o755
    assert (out / "bare-1" / "configuration.nix").stat().st_mode & 0o777 == 0o644
    manifest = json.loads((out / "bare-1" / "manifest.json").read_text())
    on_disk = {
        str(p.relative_to(out / "bare-1"))
        for p in (out / "bare-1").rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    assert os.stat(out / "bare-1" / "fediversity").st_mode & 0o777 == 0o755
