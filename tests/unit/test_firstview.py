"""The first-view cache (`core.views.firstview`): round trip, key, bad caches, file modes,
no secret in it."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from fedi_tui.core.deploy.history import load_index
from fedi_tui.core.deploy.recorded import load_recorded
from fedi_tui.core.state.file import load_state
from fedi_tui.core.state.statedir import state_dir
from fedi_tui.core.views.firstview import (
    SCHEMA,
    cache_file,
    read_first_view,
    view_key,
    write_first_view,
)
from fedi_tui.core.views.overview import dashboard_view
from fedi_tui.core.views.overviewmodel import DashboardView, view_from_json, view_to_json


def _view(state: Path) -> DashboardView:
    loaded = load_state(state)
    directory = state_dir(loaded.path, loaded.spec)
    return dashboard_view(loaded, load_recorded(directory), load_index(directory))


def test_the_view_survives_json(demo_copy: Path) -> None:
    view = _view(demo_copy)
    assert view.overview.operators  # the demo has operators to draw
    assert view_from_json(json.loads(json.dumps(view_to_json(view)))) == view


def test_a_written_view_is_read_back_while_the_files_are_unchanged(demo_copy: Path) -> None:
    assert read_first_view(demo_copy).view is None  # nothing cached yet
    view = _view(demo_copy)
    write_first_view(demo_copy, view_key(demo_copy), view)
    first = read_first_view(demo_copy)
    assert first.view == view
    assert first.key == view_key(demo_copy)


def test_the_key_changes_with_each_of_the_three_files(demo_copy: Path) -> None:
    keys = {view_key(demo_copy)}
    demo_copy.write_text(demo_copy.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    keys.add(view_key(demo_copy))
    fedi = demo_copy.parent / ".fedi"
    (fedi / "deployments").mkdir(parents=True, exist_ok=True)
    (fedi / "recorded.json").write_text("{}", encoding="utf-8")
    keys.add(view_key(demo_copy))
    (fedi / "deployments" / "index.json").write_text("{}", encoding="utf-8")
    keys.add(view_key(demo_copy))
    (fedi / "recorded.json").write_text('{"a": 1}', encoding="utf-8")
    keys.add(view_key(demo_copy))
    assert len(keys) == 5


def test_a_changed_state_file_misses(demo_copy: Path) -> None:
    write_first_view(demo_copy, view_key(demo_copy), _view(demo_copy))
    demo_copy.write_text(demo_copy.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert read_first_view(demo_copy).view is None


def test_a_corrupt_or_other_schema_cache_is_ignored_and_rewritten(demo_copy: Path) -> None:
    view = _view(demo_copy)
    key = view_key(demo_copy)
    target = cache_file(demo_copy)
    write_first_view(demo_copy, key, view)
    good = json.loads(target.read_text(encoding="utf-8"))
    bad_texts = [
        "{not json",
        json.dumps({**good, "schema": SCHEMA + 1}),
        json.dumps({**good, "view": {"runtimes": 3}}),
        json.dumps({"schema": SCHEMA, "key": key}),
        json.dumps([1, 2]),
    ]
    for text in bad_texts:
        target.write_text(text, encoding="utf-8")
        assert read_first_view(demo_copy).view is None, text
        write_first_view(demo_copy, key, view)
        assert read_first_view(demo_copy).view == view


def test_the_cache_is_private(demo_copy: Path) -> None:
    write_first_view(demo_copy, view_key(demo_copy), _view(demo_copy))
    target = cache_file(demo_copy)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert target.parent.parent.parent == Path(os.environ["XDG_CACHE_HOME"])


def test_no_secret_is_in_the_cache(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each secret the demo state names (by environment variable) is given a value; neither
    the values, the variables' names nor the token id reach the cached text."""
    source = demo_copy.read_text(encoding="utf-8")
    names = re.findall(r'env = "([A-Z_]+)"', source)
    assert len(names) >= 2, "the demo names secrets to look for"
    for i, name in enumerate(names):
        monkeypatch.setenv(name, f"s3cr3t-value-{i}-xyzzy")
    loaded = load_state(demo_copy)
    write_first_view(demo_copy, view_key(demo_copy), _view(demo_copy))
    text = cache_file(demo_copy).read_text(encoding="utf-8")
    assert "xyzzy" not in text
    for name in [*names, "root@pam!fedi", "token"]:
        assert name not in text
    assert loaded.spec.provider.name in text  # what is shown is there
