"""Broken state files: every problem located, exit 1, no traceback, the file untouched.

The corpus is `bad_states/`: one small file per kind of damage, each a copy of
`valid.toml` with that damage, and `cases.toml` saying exactly what must be
reported. Huge, binary and not-a-file cases are made here at run time.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.core import errors
from fedi_tui.core.errors import FediError, InvalidState
from fedi_tui.core.state.file import MAX_BYTES, load_state
from tests.unit.conftest import CliResult, RunCli

CORPUS = Path(__file__).parent / "bad_states"
VALID = CORPUS / "valid.toml"


@dataclass(frozen=True)
class Expected:
    line: int
    col: int
    key: str
    message: str


@dataclass(frozen=True)
class Case:
    name: str
    file: str | None
    generate: str | None
    problems: tuple[Expected, ...]
    error: str | None
    secret: str | None

    @classmethod
    def from_toml(cls, raw: dict[str, Any]) -> Case:
        problems = []
        for p in raw.get("problems", []):
            line, col = (int(n) for n in p["at"].split(":"))
            problems.append(Expected(line, col, p.get("key", ""), p["message"]))
        name = raw.get("file") or raw["generate"]
        assert ("problems" in raw) != ("error" in raw), f"{name}: give problems or error"
        return cls(
            name=name.removesuffix(".toml"),
            file=raw.get("file"),
            generate=raw.get("generate"),
            problems=tuple(problems),
            error=raw.get("error"),
            secret=raw.get("secret"),
        )


CASES = [Case.from_toml(c) for c in tomllib.loads((CORPUS / "cases.toml").read_text())["case"]]


# --- files made at run time ------------------------------------------------------


def _deep_nesting(path: Path) -> None:
    path.write_text("schema = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n")


def _binary_png(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)


def _binary_elf(path: Path) -> None:
    # the start of an x86-64 executable; 0xf0 (entry point) is the first byte that is not UTF-8
    header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x03\x00>\x00\x01\x00\x00\x00"
    path.write_bytes(header + b"\xf0\x10\x00\x00\x00\x00\x00\x00@\x00" + bytes(4000))


def _binary_nul(path: Path) -> None:
    path.write_bytes(bytes(4096))  # valid UTF-8, but not TOML


def _huge(path: Path) -> None:
    with path.open("wb") as f:
        f.write(VALID.read_bytes())
        f.truncate(MAX_BYTES + 1)  # sparse: cheap to make, too big to read


def _huge_value(path: Path) -> None:
    text = VALID.read_text()
    assert text.splitlines()[27] == "enable = true"
    huge = 'site_description = "' + "x" * 5_000_000 + '"\n'
    path.write_text(text.replace("enable = true\n", huge + "enable = true\n"))


def _directory(path: Path) -> None:
    path.mkdir()


def _missing(path: Path) -> None:
    pass


GENERATORS: dict[str, Callable[[Path], None]] = {
    "deep_nesting.toml": _deep_nesting,
    "binary_png.toml": _binary_png,
    "binary_elf.toml": _binary_elf,
    "binary_nul.toml": _binary_nul,
    "huge.toml": _huge,
    "huge_value.toml": _huge_value,
    "directory.toml": _directory,
    "missing.toml": _missing,
}


def _make(case: Case, tmp_path: Path) -> Path:
    """A private copy of the case's file, so lock and backup files stay in tmp_path."""
    if case.file is not None:
        path = tmp_path / case.file
        path.write_bytes((CORPUS / case.file).read_bytes())
    else:
        assert case.generate is not None
        path = tmp_path / case.generate
        GENERATORS[case.generate](path)
    return path


def _snapshot(path: Path) -> tuple[str, ...]:
    """What is at `path`: the file's hash, a directory's listing, or nothing."""
    if path.is_dir():
        return ("dir", *sorted(os.listdir(path)))
    if path.exists():
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return ("missing",)


def _leftovers(tmp_path: Path, path: Path) -> list[str]:
    """Files beside the state file other than itself and its lock."""
    return sorted(
        p.name for p in tmp_path.iterdir() if p.name not in (path.name, path.name + ".lock")
    )


_PROBLEM = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")


def _problem_lines(result: CliResult, path: Path) -> list[str]:
    lines = result.err.removeprefix("fedi-tui: ").splitlines()
    return [line for line in lines if line.startswith(f"{path}:")]


def _check_problems(case: Case, result: CliResult, path: Path) -> None:
    lines = _problem_lines(result, path)
    assert len(lines) == len(case.problems), result.err
    for line, expected in zip(lines, case.problems, strict=True):
        m = _PROBLEM.match(line)
        assert m is not None, f"not path:line:col: {line!r}"
        assert m["path"] == str(path)
        assert (int(m["line"]), int(m["col"])) == (expected.line, expected.col), line
        rest = m["rest"]
        if expected.key:
            assert rest.startswith(f"{expected.key}: "), line
            rest = rest.removeprefix(f"{expected.key}: ")
        assert expected.message in rest, line


def _check_no_crash(case: Case, result: CliResult) -> None:
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    assert len(result.output) < 20_000, "the output must not dump the file"
    if case.secret:
        assert case.secret not in result.output


# --- the corpus -------------------------------------------------------------------


def test_corpus_base_is_valid(cli: RunCli) -> None:
    result = cli("-s", str(VALID), "validate")
    assert result.code == 0, result.err
    assert "valid" in result.out


def test_every_corpus_file_has_a_case() -> None:
    files = {p.name for p in CORPUS.glob("*.toml")} - {"cases.toml", "valid.toml"}
    declared = {c.file for c in CASES if c.file}
    assert files == declared
    assert {c.generate for c in CASES if c.generate} == set(GENERATORS)
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_validate_reports_every_problem_located(case: Case, tmp_path: Path, cli: RunCli) -> None:
    path = _make(case, tmp_path)
    before = _snapshot(path)
    result = cli("-s", str(path), "validate")
    _check_no_crash(case, result)
    if case.error is not None:
        assert result.err.startswith(f"fedi-tui: {path}"), result.err
        assert case.error in result.err
    else:
        _check_problems(case, result, path)
        n = len(case.problems)
        assert result.err.splitlines()[-1] == f"{n} problem{'s' if n != 1 else ''} in {path}"
    assert _snapshot(path) == before
    assert _leftovers(tmp_path, path) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "command",
    [["get", "operators.coop.name"], ["set", "operators.coop.name", '"Renamed"']],
    ids=["get", "set"],
)
def test_get_and_set_refuse_and_leave_file_untouched(
    case: Case, command: list[str], tmp_path: Path, cli: RunCli
) -> None:
    path = _make(case, tmp_path)
    before = _snapshot(path)
    result = cli("-s", str(path), *command)
    _check_no_crash(case, result)
    if case.error is not None:
        assert case.error in result.err
    else:
        _check_problems(case, result, path)
    assert _snapshot(path) == before
    assert _leftovers(tmp_path, path) == []  # no .bak, no temporary file


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_load_state_raises_only_fedi_errors(case: Case, tmp_path: Path) -> None:
    path = _make(case, tmp_path)
    with pytest.raises(FediError) as exc:
        load_state(path)
    if case.problems:
        assert isinstance(exc.value, InvalidState)
        assert [(p.line, p.col) for p in exc.value.problems] == [
            (e.line, e.col) for e in case.problems
        ]
    else:
        assert not isinstance(exc.value, InvalidState)
    if case.name.startswith("schema_") and case.error:
        assert isinstance(exc.value, errors.SchemaTooNew)


CONSOLE_CASES = ["syntax_unclosed_string", "binary_png", "huge", "directory", "mixed_many"]


@pytest.mark.parametrize("name", CONSOLE_CASES)
def test_console_script_on_bad_input(name: str, tmp_path: Path) -> None:
    """The installed command, not just main(): exit 1 and no traceback."""
    case = next(c for c in CASES if c.name == name)
    path = _make(case, tmp_path)
    before = _snapshot(path)
    script = Path(sys.executable).with_name("fedi-tui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fedi_tui"]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    for args in (["validate"], ["set", "provider.name", '"X"']):
        done = subprocess.run(
            [*command, "-s", str(path), *args], capture_output=True, text=True, env=env, timeout=60
        )
        result = CliResult(done.returncode, done.stdout, done.stderr)
        _check_no_crash(case, result)
        if case.problems:
            first = case.problems[0]
            assert f"{path}:{first.line}:{first.col}: " in result.err
        assert _snapshot(path) == before


# --- refused changes to a valid file ----------------------------------------------


@pytest.fixture
def valid_copy(tmp_path: Path) -> Path:
    path = tmp_path / "fedi.toml"
    path.write_bytes(VALID.read_bytes())
    return path


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "storage.s3.admin_token",
            '"hunter2-set-in-clear"',
            'write a reference instead: { env = "',
        ),
        ("storage.s3.admin_token", "'''hunter2-set-in-clear'''", "a secret must not be written"),
        ("provider.contcat", '"a@b.test"', "unknown key 'contcat'; did you mean 'contact'?"),
        ("operators.coop.runtime", '"boxx"', "no [runtimes.boxx] is defined; did you mean 'box'?"),
        ("operators.coop.apps.mastodon.enable", '"yes"', "expected true or false"),
        ("schema", "0", "greater than or equal to 1"),
    ],
)
def test_refused_set_says_why_and_writes_nothing(
    valid_copy: Path, cli: RunCli, key: str, value: str, message: str
) -> None:
    before = valid_copy.read_bytes()
    result = cli("-s", str(valid_copy), "set", key, value)
    assert result.code == 1, result.output
    assert message in result.err
    assert "Traceback" not in result.output
    assert "hunter2-set-in-clear" not in result.output
    assert valid_copy.read_bytes() == before
    assert not valid_copy.with_name("fedi.toml.bak").exists()


def test_secret_reference_is_accepted(valid_copy: Path, cli: RunCli) -> None:
    """The way the refusal message suggests does work."""
    result = cli("-s", str(valid_copy), "set", "storage.s3.admin_token", '{ file = "~/.garage" }')
    assert result.code == 0, result.output
    assert load_state(valid_copy).data["storage"]["s3"]["admin_token"] == {"file": "~/.garage"}


# --- known bugs outside this area (strict: fixing them makes these pass) -------------


def test_unquoted_secret_value_is_not_echoed(valid_copy: Path, cli: RunCli) -> None:
    result = cli("-s", str(valid_copy), "set", "storage.s3.admin_token", "hunter2unquoted")
    assert result.code == 1
    assert "hunter2unquoted" not in result.output


def test_set_in_missing_directory_is_a_user_error(tmp_path: Path, cli: RunCli) -> None:
    result = cli("-s", str(tmp_path / "no-such-dir" / "fedi.toml"), "set", "schema", "1")
    assert result.code == 1, result.output
    assert "no such" in result.err


def test_refused_set_problem_is_located(valid_copy: Path, cli: RunCli) -> None:
    result = cli("-s", str(valid_copy), "set", "storage.s3.admin_token", '"hunter2"')
    assert result.code == 1
    assert re.search(
        rf"{re.escape(str(valid_copy))}:\d+:\d+: storage\.s3\.admin_token: ", result.err
    )


def test_set_refuses_a_schema_this_program_cannot_read(valid_copy: Path, cli: RunCli) -> None:
    before = valid_copy.read_bytes()
    result = cli("-s", str(valid_copy), "set", "schema", "99")
    assert result.code == 1, result.output
    assert valid_copy.read_bytes() == before


def test_newer_schema_is_located(tmp_path: Path, cli: RunCli) -> None:
    case = next(c for c in CASES if c.name == "schema_newer")
    path = _make(case, tmp_path)
    result = cli("-s", str(path), "validate")
    assert result.code == 1
    assert f"{path}:1:1: schema" in result.err
