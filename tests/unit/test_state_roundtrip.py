"""Round trips: loading and saving keeps files byte-identical; edits touch only their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.cli import main
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import DELETE, Edit
from tests.bench.gen_large_state import large_state_text
from tests.paths import SAMPLES
from tests.textdiff import changed_lines

SAMPLE_FILES = sorted(SAMPLES.glob("*.toml"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_load_and_save_unchanged_is_byte_identical(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / sample.name
    raw = sample.read_bytes()
    target.write_bytes(raw)
    loaded = load_state(target)
    save_state(loaded, [])
    assert target.read_bytes() == raw
    # a save that sets every value to what it already is changes nothing either
    same = [Edit(("provider", "name"), loaded.data["provider"]["name"])]
    save_state(load_state(target), same)
    assert target.read_bytes() == raw


def test_samples_exist() -> None:
    assert any(p.name == "demo.toml" for p in SAMPLE_FILES)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("operators.coop.apps.mastodon.enable", "false", ["-enable = true", "+enable = false"]),
        ("operators.coop.apps.mastodon.size", '"large"', ['-size = "medium"', '+size = "large"']),
        ("provider.name", '"Other Hosting"', ['-name = "Demo Hosting"', '+name = "Other Hosting"']),
        ("schema", "1", []),
    ],
)
def test_cli_set_changes_only_that_line(
    demo_copy: Path, key: str, value: str, expected: list[str]
) -> None:
    before = demo_copy.read_text()
    assert main(["-s", str(demo_copy), "set", key, value]) == 0
    assert changed_lines(before, demo_copy.read_text()) == expected


def test_set_keeps_trailing_comment(demo_copy: Path) -> None:
    before = demo_copy.read_text()
    assert main(["-s", str(demo_copy), "set", "operators.coop.apps.pixelfed.enable", "true"]) == 0
    assert changed_lines(before, demo_copy.read_text()) == [
        "-enable = false                        # paused until they hire a moderator",
        "+enable = true                        # paused until they hire a moderator",
    ]


def test_set_new_key_adds_one_line_in_its_table(demo_copy: Path) -> None:
    before = demo_copy.read_text()
    assert (
        main(
            [
                "-s",
                str(demo_copy),
                "set",
                "operators.school.apps.mastodon.media_retention_days",
                "7",
            ]
        )
        == 0
    )
    after = demo_copy.read_text()
    assert changed_lines(before, after) == ["+media_retention_days = 7"]
    section = after.split("[operators.school.apps.mastodon]")[1]
    assert "media_retention_days = 7" in section


def test_add_operator_then_remove_it_restores_file(demo_copy: Path) -> None:
    before = demo_copy.read_text()
    loaded = load_state(demo_copy)
    new_op = {
        "name": "New Co",
        "email": "hi@newco.test",
        "domain": "newco.test",
        "runtime": "pve-a",
        "storage": "garage-a",
        "apps": {
            "mastodon": {"enable": True, "admin": {"username": "root_", "email": "a@newco.test"}}
        },
    }
    loaded = save_state(loaded, [Edit(("operators", "newco"), new_op)])
    after = demo_copy.read_text()
    assert after.startswith(before + "\n[operators.newco]\n")  # after the last operator
    assert "\n\n[operators.newco.apps.mastodon]\n" in after
    assert after.endswith("\n") and not after.endswith("\n\n")
    reloaded = load_state(demo_copy)
    assert reloaded.data["operators"]["newco"] == new_op
    save_state(reloaded, [Edit(("operators", "newco"), DELETE)])
    assert demo_copy.read_text() == before  # byte for byte: no blank line left at the end


def test_edit_in_large_state_changes_one_line(tmp_path: Path) -> None:
    path = tmp_path / "large.toml"
    path.write_text(large_state_text())
    before = path.read_text()
    save_state(
        load_state(path), [Edit(("operators", "op321", "apps", "peertube", "size"), "large")]
    )
    changed = changed_lines(before, path.read_text())
    assert len(changed) == 2 and changed[1] == '+size = "large"'


def test_save_keeps_previous_version_as_bak(demo_copy: Path) -> None:
    before = demo_copy.read_bytes()
    save_state(load_state(demo_copy), [Edit(("provider", "name"), "Renamed")])
    assert demo_copy.with_name("fedi.toml.bak").read_bytes() == before


def test_replacing_a_whole_table_keeps_the_comments_of_its_neighbours(demo_copy: Path) -> None:
    before = demo_copy.read_text()
    assert "# School on its own rented machine." in before
    new = {"pixelfed": {"enable": False}}
    assert (
        main(
            [
                "-s",
                str(demo_copy),
                "set",
                "operators.photoclub.apps",
                "{ pixelfed = { enable = false } }",
            ]
        )
        == 0
    )
    after = demo_copy.read_text()
    assert "# School on its own rented machine." in after
    assert "# Photography club: pictures only." in after
    assert load_state(demo_copy).data["operators"]["photoclub"]["apps"] == new
    removed = [line for line in changed_lines(before, after) if line.startswith("-")]
    assert all("photoclub.apps.pixelfed" in line or not line.startswith("-[") for line in removed)


def test_a_table_added_by_set_has_a_blank_line_before_the_next_table(demo_copy: Path) -> None:
    value = '{ enable = true, admin = { username = "a", email = "a@hillside.test" } }'
    assert main(["-s", str(demo_copy), "set", "operators.school.apps.pixelfed", value]) == 0
    after = demo_copy.read_text()
    added = after.split("[operators.school.apps.pixelfed]\n", 1)[1]
    table, rest = added.split("\n\n", 1)  # the table, one blank line, what follows
    assert table == 'enable = true\nadmin = { username = "a", email = "a@hillside.test" }'
    assert rest.startswith("[operators.school.apps.")
    assert load_state(demo_copy).data["operators"]["school"]["apps"]["pixelfed"]["enable"]


def test_replacing_the_last_table_keeps_its_place_and_the_end_of_the_file(
    demo_copy: Path,
) -> None:
    before = demo_copy.read_text()
    value = '{ enable = true, admin = { username = "it_admin", email = "it@hillside.test" } }'
    assert main(["-s", str(demo_copy), "set", "operators.school.apps.mastodon", value]) == 0
    assert changed_lines(before, demo_copy.read_text()) == [
        '-registration_mode = "closed"',
        '-size = "tiny"',
    ]


@pytest.mark.parametrize(
    "edit",
    [
        Edit(("operators", "school", "apps", "mastodon"), DELETE),
        Edit(("operators", "school", "apps", "mastodon", "size"), "large"),
        Edit(("operators", "school", "apps", "mastodon", "site_title"), "Hillside"),
        Edit(("runtimes", "pve-a", "overcommit"), {"cpu": 2.0}),
        Edit(("provider", "state_dir"), "state"),
    ],
    ids=lambda e: ".".join(e.path),
)
def test_a_save_never_adds_a_blank_line_at_the_end(demo_copy: Path, edit: Edit) -> None:
    save_state(load_state(demo_copy), [edit])
    text = demo_copy.read_text()
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text  # nor two blank lines anywhere


def test_a_save_leaves_no_lock_file_behind(demo_copy: Path) -> None:
    lock = demo_copy.with_name("fedi.toml.lock")
    assert main(["-s", str(demo_copy), "set", "provider.name", '"Renamed"']) == 0
    assert not lock.exists()
    # nor a refused one
    assert main(["-s", str(demo_copy), "set", "provider.domain", '"NOT A DOMAIN"']) == 1
    assert not lock.exists()
    left = sorted(p.name for p in demo_copy.parent.iterdir() if p.suffix != ".pub")
    assert left == ["fedi.toml", "fedi.toml.bak"]  # (the .pub is the demo's deploy key)
