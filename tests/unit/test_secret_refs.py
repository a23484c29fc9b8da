"""Secret references resolve when asked, from env, file or command; errors never show values."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.secretref import SecretRef
from fedi_tui.core.state.tomledit import Edit

VALUE = "s3cr3t-value-Ω"


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDI_TEST_SECRET", VALUE)
    assert SecretRef(env="FEDI_TEST_SECRET").resolve().get_secret_value() == VALUE


def test_env_missing_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEDI_TEST_SECRET", raising=False)
    with pytest.raises(FediError, match="env 'FEDI_TEST_SECRET': the variable is not set"):
        SecretRef(env="FEDI_TEST_SECRET").resolve()


def test_file_relative_to_the_state_file(tmp_path: Path) -> None:
    (tmp_path / "pve.secret").write_text(VALUE + "\n")
    assert SecretRef(file="pve.secret").resolve(tmp_path).get_secret_value() == VALUE


def test_file_missing_says_where(tmp_path: Path) -> None:
    with pytest.raises(FediError, match=r"cannot read .*nope"):
        SecretRef(file="nope").resolve(tmp_path)


def test_command() -> None:
    ref = SecretRef(command=f"{sys.executable} -c 'print(\"{VALUE}\")'")
    assert ref.resolve().get_secret_value() == VALUE


def test_failing_command_does_not_show_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDI_TEST_SECRET", VALUE)
    code = "import os; print(os.environ['FEDI_TEST_SECRET']); raise SystemExit(3)"
    ref = SecretRef(command=f'{sys.executable} -c "{code}"')
    with pytest.raises(FediError) as exc:
        ref.resolve()
    assert "exited 3" in str(exc.value) and VALUE not in str(exc.value)


def test_resolved_value_is_masked_and_never_saved(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVE_TOKEN", VALUE)
    loaded = load_state(demo_copy)
    token = loaded.spec.runtimes["pve-a"].token.resolve()
    assert VALUE not in repr(token) and VALUE not in str(token)
    save_state(loaded, [Edit(("provider", "name"), "Renamed")])
    assert VALUE not in demo_copy.read_text()
    assert 'token = { env = "PVE_TOKEN" }' in demo_copy.read_text()


@pytest.mark.parametrize("value", [{"env": "A", "file": "b"}, {}, {"env": "not a name"}])
def test_exactly_one_valid_source(value: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        SecretRef.model_validate(value)


def test_a_file_that_is_not_utf8_names_the_reference_and_the_file(tmp_path: Path) -> None:
    secret = b"s3cr3t-\xff\xfe-value"
    (tmp_path / "pve.secret").write_bytes(secret)
    with pytest.raises(FediError) as caught:
        SecretRef(file="pve.secret").resolve(tmp_path)
    text = str(caught.value)
    assert text.startswith("secret file 'pve.secret': the file ")
    assert f"{tmp_path / 'pve.secret'} is not UTF-8 text" in text
    assert "s3cr3t" not in text and "xff" not in text  # no part of the secret


def test_a_command_whose_output_is_not_utf8_says_so() -> None:
    code = 'import sys; sys.stdout.buffer.write(b"\\xff")'
    ref = SecretRef(command=f"{sys.executable} -c '{code}'")
    with pytest.raises(FediError, match=r"the command's output is not UTF-8 text"):
        ref.resolve()
