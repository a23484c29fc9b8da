"""Mutated state files never crash the loader or the command line.

Valid files (the demo) are damaged at random — lines deleted, duplicated,
swapped, values given other types, characters and bytes inserted, the file cut
short — and must give either a valid state or `FediError`s, each problem with
a place in the file; the command line must exit 0 or 1 and never print a
traceback. A last test feeds the key locator (`tomlpos`) random valid TOML in
all its syntax forms and checks that every key is found on its own line.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fedi_tui.core.errors import FediError, InvalidState
from fedi_tui.core.state.file import load_state
from fedi_tui.core.state.tomlpos import scan
from tests.paths import DEMO
from tests.unit.conftest import RunCli

DEMO_BYTES = DEMO.read_bytes()
BAD_STATES = Path(__file__).parent / "bad_states"
SEEDS = [DEMO_BYTES, (BAD_STATES / "valid.toml").read_bytes()]

# --- mutations -------------------------------------------------------------------

OTHER_VALUES = [
    "1",
    "-0",
    "1.5",
    "nan",
    "-inf",
    "true",
    '""',
    '"x"',
    "'lit'",
    '"""\nmulti\n"""',
    "[]",
    '[1, "a"]',
    "[[1], [2]]",
    "{}",
    "{ a = 1 }",
    '{ env = "X" }',
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "0x1F",
    "99999999999999999999",
    '"' + "\\u00e9" * 3 + '"',
]
TOML_BITS = st.sampled_from(
    [
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        "=",
        '"',
        "'",
        '"""',
        "'''",
        "#",
        ".",
        ",",
        "\n",
        "\\",
        " ",
        "\t",
        "\r\n",
    ]
)


@dataclass(frozen=True)
class Mutation:
    kind: str
    a: int
    b: int
    payload: bytes

    def apply(self, raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        i, j = self.a % len(lines), self.b % len(lines)
        if self.kind == "delete":
            del lines[i]
        elif self.kind == "duplicate":
            lines.insert(i, lines[i])
        elif self.kind == "replace":
            lines[i] = lines[j]
        elif self.kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif self.kind == "retype":
            key, sep, _ = lines[i].partition(b"=")
            if not sep:
                return raw
            lines[i] = key + b"= " + self.payload
        elif self.kind == "insert":
            at = self.a % (len(raw) + 1)
            return raw[:at] + self.payload + raw[at:]
        elif self.kind == "truncate":
            return raw[: self.a % (len(raw) + 1)]
        return b"\n".join(lines)


positions = st.integers(min_value=0, max_value=1 << 20)
inserted_text = st.one_of(
    TOML_BITS,
    st.text(max_size=12),
    st.lists(TOML_BITS, min_size=1, max_size=6).map("".join),
).map(lambda s: s.encode("utf-8"))
mutations = st.one_of(
    st.builds(
        Mutation,
        st.sampled_from(["delete", "duplicate", "replace", "swap", "truncate"]),
        positions,
        positions,
        st.just(b""),
    ),
    st.builds(
        Mutation,
        st.just("retype"),
        positions,
        positions,
        st.sampled_from(OTHER_VALUES).map(str.encode),
    ),
    st.builds(Mutation, st.just("insert"), positions, positions, inserted_text),
    st.builds(Mutation, st.just("insert"), positions, positions, st.binary(min_size=1, max_size=8)),
)
damaged_files = st.builds(
    lambda seed, ms: _apply_all(seed, ms),
    st.sampled_from(SEEDS),
    st.lists(mutations, min_size=1, max_size=4),
)


def _apply_all(raw: bytes, ms: list[Mutation]) -> bytes:
    for m in ms:
        raw = m.apply(raw)
    return raw


_LOCATED = re.compile(r"^.+:\d+:\d+: ")


def _check_problems(exc: InvalidState, raw: bytes) -> None:
    """Every problem has a real place in the file and prints as one path:line:col line."""
    n_lines = raw.count(b"\n") + 1
    for problem in exc.problems:
        assert 1 <= problem.line <= n_lines, problem
        assert problem.col >= 1, problem
        formatted = problem.format(exc.path)
        assert _LOCATED.match(formatted), formatted
        assert "\n" not in formatted, formatted


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=1000, deadline=None)
@given(raw=damaged_files)
def test_load_state_returns_or_raises_fedi_error(raw: bytes, work_dir: Path) -> None:
    path = work_dir / "api.toml"
    path.write_bytes(raw)
    try:
        loaded = load_state(path)
    except InvalidState as exc:
        _check_problems(exc, raw)
        syntax = any(p.message.startswith("TOML syntax") for p in exc.problems)
        event("syntax error" if syntax else "invalid state")
    except FediError as exc:
        event(type(exc).__name__)
    else:
        assert loaded.spec is not None
        event("valid")
    assert path.read_bytes() == raw


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=damaged_files, value=st.sampled_from(['"fuzzed"', "3", "true", "[1]", "{ a = 1 }"]))
def test_cli_exits_0_or_1_without_traceback(
    raw: bytes, value: str, work_dir: Path, cli: RunCli
) -> None:
    path = work_dir / "cli.toml"
    path.write_bytes(raw)
    path.with_name("cli.toml.bak").unlink(missing_ok=True)

    result = cli("-s", str(path), "validate")
    assert result.code in (0, 1), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert path.read_bytes() == raw

    key = "operators.coop.apps.mastodon.site_description"
    result = cli("-s", str(path), "set", key, value)
    event(f"set exit {result.code}")
    assert result.code in (0, 1), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.code == 1:
        assert path.read_bytes() == raw
        assert not path.with_name("cli.toml.bak").exists()
    else:  # a valid file took a valid value: it still loads, with that value
        loaded = load_state(path)
        expected = tomllib.loads(f"v = {value}")["v"]
        assert loaded.data["operators"]["coop"]["apps"]["mastodon"]["site_description"] == expected


def test_mutations_do_damage() -> None:
    """The mutations are not no-ops: each of these makes the demo invalid."""
    lines = DEMO_BYTES.split(b"\n")
    schema = lines.index(b"schema = 1")
    provider = lines.index(b"[provider]")
    damage = [
        Mutation("delete", provider, 0, b""),
        Mutation("duplicate", provider + 1, 0, b""),
        Mutation("retype", schema, 0, b'"1"'),
        Mutation("replace", schema, provider, b""),
        Mutation("swap", schema, provider, b""),
        Mutation("insert", len(DEMO_BYTES) // 2, 0, b"\xff"),
        Mutation("insert", 0, 0, b"[["),
        Mutation("truncate", DEMO_BYTES.index(b"[provider]") + 3, 0, b""),
    ]
    for m in damage:
        with pytest.raises(InvalidState):
            load_state(_write(m.apply(DEMO_BYTES)))


def _write(raw: bytes) -> Path:
    path = Path(tempfile.mkdtemp()) / "damaged.toml"
    path.write_bytes(raw)
    return path


# --- the key locator on valid TOML of every shape ---------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Doc:
    """A TOML text being written and the key paths it defines, with their unique names."""

    lines: list[str]
    keys: dict[tuple[str | int, ...], str]


def _key(name: str, draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    if _BARE.fullmatch(name) and draw(st.booleans()):
        return name
    if "'" not in name and "\n" not in name and draw(st.booleans()):
        return f"'{name}'"
    return _basic(name)


def _basic(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, without surrogate pairs)."""
    return json.dumps(text, ensure_ascii=False)


def _scalar(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    text = draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8))
    scalar: str = draw(
        st.sampled_from(
            [
                _basic(text),
                f"'{text}'" if "'" not in text else '"x"',
                '"""\n' + text.replace("\\", "\\\\").replace('"', '\\"') + '\nline [x] = 1\n"""',
                "'''" + text.replace("'", "") + "\n[not.a.table]\nk = 'v'\n'''",
                '"""quote at the end\\""""',
                "'''two quotes''''",
                '"back\\\\slash"',
                "1979-05-27 07:32:00",
                "1979-05-27T07:32:00+01:00",
                "1_000",
                "-3.5e+2",
                "true",
                "inf",
            ]
        )
    )
    return scalar


def _value(draw: Callable[[st.SearchStrategy[Any]], Any], depth: int) -> str:
    kind = draw(
        st.sampled_from(["scalar", "scalar", "array", "inline"] if depth < 3 else ["scalar"])
    )
    if kind == "scalar":
        return _scalar(draw)
    if kind == "array":
        items = [_value(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
        if draw(st.booleans()):
            body = "".join(f"\n  {v}, # element\n" for v in items)
            return f"[ # opening\n{body}]"
        return "[" + ", ".join(items) + "]"
    n = draw(st.integers(0, 3))
    pairs = [f"k{depth}{i} = {_value(draw, depth + 1)}" for i in range(n)]
    # inline tables are one line in TOML 1.0: no multi-line strings inside
    pairs = [p for p in pairs if "\n" not in p]
    return "{ " + ", ".join(pairs) + " }"


@st.composite
def toml_docs(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    names = st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\"),
        min_size=1,
        max_size=6,
    )
    lines: list[str] = [draw(st.sampled_from(["", "# header comment", "\n\n"]))]
    counter = 0

    def unique() -> str:
        nonlocal counter
        counter += 1
        return f"{draw(names)}~{counter}" if draw(st.booleans()) else f"k_{counter}"

    def body(prefix: str) -> None:
        for _ in range(draw(st.integers(0, 3))):
            parts = [_key(unique(), draw) for _ in range(draw(st.integers(1, 3)))]
            sep = draw(st.sampled_from([".", " . "]))
            lines.append(f"{prefix}{sep.join(parts)} = {_value(draw, 0)}  # c")

    body("")
    headers: list[tuple[str, bool]] = []  # (dotted key as written, array of tables?)
    for _ in range(draw(st.integers(0, 6))):
        fresh = ".".join(_key(unique(), draw) for _ in range(draw(st.integers(1, 3))))
        how = draw(st.sampled_from(["new", "child", "again"]) if headers else st.just("new"))
        arrays = [h for h, is_array in headers if is_array]
        if how == "again" and arrays:  # another element of an array of tables
            header, is_array = draw(st.sampled_from(arrays)), True
        else:  # a new table, or one under an earlier header (nested arrays of tables too)
            parent = draw(st.sampled_from(headers))[0] + "." if how == "child" else ""
            header, is_array = parent + fresh, draw(st.booleans())
        headers.append((header, is_array))
        lines.append(f"[[{header}]]" if is_array else f"[ {header} ]  # table")
        body(draw(st.sampled_from(["", "  ", "\t"])))
    return "\n".join(lines) + "\n"


def _paths(data: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out: list[tuple[str | int, ...]] = [at] if at else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*at, k))
    elif isinstance(data, list):
        for n, v in enumerate(data):
            out += _paths(v, (*at, n))
    return out


@settings(max_examples=500, deadline=None)
@given(text=toml_docs())
def test_locator_finds_every_key_on_its_line(text: str) -> None:
    data = tomllib.loads(text)  # the generator writes valid TOML only
    positions = scan(text).keys
    lines = text.split("\n")
    for path in _paths(data):
        assert path in positions, (path, text)
        line, col = positions[path]
        last = path[-1]
        if isinstance(last, str) and ("~" in last or last.startswith("k_")):
            # every generated key is unique: its line must spell it
            source = lines[line - 1]
            spelled = [last, _basic(last), f"'{last}'"]
            assert any(s in source for s in spelled), (path, line, col, text)
