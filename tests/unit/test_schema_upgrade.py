"""Schema versions: newer files are refused clearly, older ones upgrade on the next save.

There is only schema 1 so far, so the upgrade path is tested by pretending this
program writes schema 2 (`core.schema.CURRENT`) and registering a migration
1 → 2 that renames `provider.contact_email` to `provider.contact`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.core.errors import InvalidState, SchemaTooNew
from fedi_tui.core.state import schema
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.tomledit import DELETE, Edit
from tests.paths import DEMO
from tests.textdiff import changed_lines
from tests.unit.conftest import RunCli

CONTACT = re.compile(r"^contact = (\"[^\"]*\")(.*)$", re.M)


def rename_contact(data: dict[str, Any]) -> list[Edit]:
    """Schema 1 → 2: `provider.contact_email` is now `provider.contact`."""
    provider = data.get("provider")
    if not isinstance(provider, dict) or "contact_email" not in provider:
        return []
    return [
        Edit(("provider", "contact"), provider["contact_email"]),
        Edit(("provider", "contact_email"), DELETE),
    ]


@pytest.fixture
def v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """This program now writes schema 2 and knows how to upgrade schema 1."""
    monkeypatch.setattr(schema, "CURRENT", 2)
    monkeypatch.setattr(schema, "MIGRATIONS", {1: rename_contact})


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    """The demo as a schema-1 file of that imagined history: `contact_email`."""
    text = DEMO.read_text()
    assert CONTACT.search(text), "the demo's provider has a contact line"
    path = tmp_path / "fedi.toml"
    path.write_text(CONTACT.sub(r"contact_email = \1\2", text, count=1))
    return path


def _changed(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = changed_lines(before, after)
    return sorted(x[1:] for x in diff if x[0] == "-"), sorted(x[1:] for x in diff if x[0] == "+")


def test_without_the_migration_the_old_file_is_invalid(v1_file: Path) -> None:
    """The upgrade below is what makes the file load, not something else."""
    with pytest.raises(InvalidState) as exc:
        load_state(v1_file)
    assert "unknown key 'contact_email'" in str(exc.value)


def test_load_reports_pending_upgrade_and_writes_nothing(v2: None, v1_file: Path) -> None:
    before = v1_file.read_bytes()
    loaded = load_state(v1_file)
    assert loaded.pending_upgrade == (
        Edit(("provider", "contact"), "noc@demo-hosting.test"),
        Edit(("provider", "contact_email"), DELETE),
        Edit(("schema",), 2),
    )
    assert loaded.spec.provider.contact == "noc@demo-hosting.test"
    assert loaded.data["schema"] == 1  # the data as the file has it
    assert v1_file.read_bytes() == before


def test_save_writes_the_migrated_file_keeping_comments(v2: None, v1_file: Path) -> None:
    before = v1_file.read_text()
    saved = save_state(load_state(v1_file), [])
    after = v1_file.read_text()
    assert after == saved.text
    removed, added = _changed(before, after)
    contact_email = next(line for line in before.splitlines() if line.startswith("contact_email"))
    assert removed == sorted(["schema = 1", contact_email])
    assert "schema = 2" in added and len(added) == 2
    assert next(a for a in added if a != "schema = 2").startswith(
        'contact = "noc@demo-hosting.test"'
    )
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    assert v1_file.with_name("fedi.toml.bak").read_text() == before

    again = load_state(v1_file)
    assert again.pending_upgrade == ()
    assert again.data["schema"] == 2
    assert "contact_email" not in again.data["provider"]


def test_set_on_an_old_file_upgrades_it_too(v2: None, v1_file: Path, cli: RunCli) -> None:
    result = cli("-s", str(v1_file), "set", "provider.name", '"Upgraded Hosting"')
    assert result.code == 0, result.output
    loaded = load_state(v1_file)
    assert loaded.pending_upgrade == ()
    assert loaded.data["schema"] == 2
    assert loaded.data["provider"]["name"] == "Upgraded Hosting"
    assert loaded.data["provider"]["contact"] == "noc@demo-hosting.test"


def test_validate_accepts_an_old_file_without_touching_it(
    v2: None, v1_file: Path, cli: RunCli
) -> None:
    before = v1_file.read_bytes()
    result = cli("-s", str(v1_file), "validate")
    assert result.code == 0, result.output
    assert v1_file.read_bytes() == before


def test_current_file_has_no_pending_upgrade(v2: None, tmp_path: Path) -> None:
    path = tmp_path / "fedi.toml"
    path.write_text(DEMO.read_text().replace("schema = 1", "schema = 2", 1))
    assert load_state(path).pending_upgrade == ()


def test_migrations_chain_in_order(monkeypatch: pytest.MonkeyPatch, v1_file: Path) -> None:
    seen: list[dict[str, Any]] = []

    def describe_coop(data: dict[str, Any]) -> list[Edit]:
        seen.append(data)
        key = ("operators", "coop", "apps", "mastodon", "site_description")
        return [Edit(key, "added by migration 2")]

    monkeypatch.setattr(schema, "CURRENT", 3)
    monkeypatch.setattr(schema, "MIGRATIONS", {1: rename_contact, 2: describe_coop})
    loaded = load_state(v1_file)
    # migration 2 sees the file as migration 1 left it
    assert seen[0]["schema"] == 2 and "contact" in seen[0]["provider"]
    assert [e.path for e in loaded.pending_upgrade][-1] == ("schema",)
    save_state(loaded, [])
    data = load_state(v1_file).data
    assert data["schema"] == 3
    assert data["operators"]["coop"]["apps"]["mastodon"]["site_description"] == (
        "added by migration 2"
    )


def test_invalid_after_upgrade_is_still_located(v2: None, v1_file: Path, cli: RunCli) -> None:
    v1_file.write_text(v1_file.read_text().replace("noc@demo-hosting.test", "not-an-address"))
    result = cli("-s", str(v1_file), "validate")
    assert result.code == 1
    assert re.search(
        rf"^{re.escape(str(v1_file))}:\d+:\d+: provider\.contact: expected an e-mail",
        result.err,
        re.M,
    ), result.err


@pytest.mark.parametrize("found", [3, 40, 2**40])
def test_newer_schema_is_refused_naming_the_versions(
    v2: None, tmp_path: Path, cli: RunCli, found: int
) -> None:
    path = tmp_path / "fedi.toml"
    path.write_text(DEMO.read_text().replace("schema = 1", f"schema = {found}", 1))
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as exc:
        load_state(path)
    assert f"schema = {found} is newer" in str(exc.value)
    assert "(up to 2)" in str(exc.value)
    assert "install a newer fedi-tui" in str(exc.value)
    for command in (["validate"], ["set", "provider.name", '"X"']):
        result = cli("-s", str(path), *command)
        assert result.code == 1
        assert f"schema = {found} is newer" in result.err
        assert "Traceback" not in result.output
    assert path.read_bytes() == before


def test_newer_schema_is_refused_by_the_real_version() -> None:
    """Without the pretence: this program's CURRENT is what the message names."""
    with pytest.raises(SchemaTooNew, match=rf"up to {schema.CURRENT}\)"):
        schema.upgrade_edits({"schema": schema.CURRENT + 1}, "fedi.toml")


def test_demo_is_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "fedi.toml"
    shutil.copyfile(DEMO, path)
    loaded = load_state(path)
    assert loaded.data["schema"] == schema.CURRENT
    assert loaded.pending_upgrade == ()


def test_added_key_stays_with_its_table(v2: None, v1_file: Path) -> None:
    save_state(load_state(v1_file), [])
    lines = v1_file.read_text().splitlines()
    domain = next(n for n, line in enumerate(lines) if line.startswith("domain = "))
    assert lines[domain + 1].startswith("contact = "), lines[domain : domain + 6]
