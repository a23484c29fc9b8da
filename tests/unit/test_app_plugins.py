"""Applications come from the `fedi_tui.apps` entry points: a third party can add one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from pydantic import Field

from fedi_tui.cli import main
from fedi_tui.core.apps import registry
from fedi_tui.core.apps.base import AppModule, AppOptions, SecretNeed, SizePreset
from fedi_tui.core.errors import FediError, InvalidState
from fedi_tui.core.state.file import load_state
from tests.paths import SAMPLES


class LemmyOptions(AppOptions):
    """Options of a Lemmy instance (a test plugin)."""

    max_communities: int = Field(default=50, ge=1)
    """How many communities users may create."""


PRESET = SizePreset(users=10, cores=1, memory_gib=2, disk_gib=10, s3_quota_gib=10)
LEMMY = AppModule(
    name="lemmy",
    title="Lemmy",
    summary="Link aggregation.",
    options=LemmyOptions,
    sizes={"tiny": PRESET, "small": PRESET, "medium": PRESET, "large": PRESET},
    secrets=(SecretNeed("secret", "random"),),
)


@pytest.fixture
def with_lemmy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = registry.entry_points

    def fake(group: str) -> list[EntryPoint]:
        found = list(real(group=group))
        found.append(EntryPoint("lemmy", f"{__name__}:LEMMY", group))
        return found

    monkeypatch.setattr(registry, "entry_points", fake)
    registry.installed_apps.cache_clear()
    yield
    registry.installed_apps.cache_clear()


def test_builtin_apps_are_registered() -> None:
    assert list(registry.installed_apps()) == ["mastodon", "peertube", "pixelfed"]


@pytest.mark.usefixtures("with_lemmy")
def test_a_plugin_app_is_validated_and_listed(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = demo_copy.read_text() + (
        "\n[operators.coop.apps.lemmy]\nenable = true\nmax_communities = 0\n"
        'admin = { username = "alice", email = "alice@coop.test" }\n'
    )
    demo_copy.write_text(text)
    with pytest.raises(InvalidState) as exc:
        load_state(demo_copy)
    line = text.splitlines().index("max_communities = 0") + 1
    assert f"fedi.toml:{line}:1: operators.coop.apps.lemmy.max_communities:" in str(exc.value)
    demo_copy.write_text(text.replace("max_communities = 0", "max_communities = 5"))
    assert load_state(demo_copy).spec.operators["coop"].apps.lemmy.max_communities == 5  # type: ignore[attr-defined]
    assert main(["apps", "lemmy"]) == 0
    out = capsys.readouterr().out
    assert "max_communities: integer, default 50" in out and "How many communities" in out


def test_unknown_app_is_refused_with_a_suggestion(demo_copy: Path) -> None:
    demo_copy.write_text(
        demo_copy.read_text() + "\n[operators.coop.apps.pixelfd]\nenable = false\n"
    )
    with pytest.raises(InvalidState) as exc:
        load_state(demo_copy)
    assert "unknown key 'pixelfd'; did you mean 'pixelfed'?" in str(exc.value)


def test_a_broken_plugin_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [EntryPoint("bad", "no_such_module:X", group)]
    )
    registry.installed_apps.cache_clear()
    try:
        with pytest.raises(FediError, match="application plugin 'bad'"):
            registry.installed_apps()
    finally:
        registry.installed_apps.cache_clear()


def test_apps_command_lists_every_option_with_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    for app in registry.installed_apps().values():
        assert f"{app.name} — {app.title}" in out
        for name, field in app.options.model_fields.items():
            assert name in out
            assert (field.description or "") in out


def test_committed_json_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """sample-configs/fedi.schema.json is what `fedi-tui schema` prints; regenerate it."""
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == (SAMPLES / "fedi.schema.json").read_text()


def test_json_schema_describes_fields() -> None:
    schema = json.loads((SAMPLES / "fedi.schema.json").read_text())
    mastodon = schema["$defs"]["MastodonOptions"]["properties"]
    assert mastodon["media_retention_days"]["description"].startswith("Days to keep")
    assert schema["$defs"]["SecretRef"]["additionalProperties"] is False
