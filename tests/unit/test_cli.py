"""The command line: help everywhere, version, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from fedi_tui.cli import build_parser, main
from fedi_tui.core.state.file import load_state, save_state
from fedi_tui.core.state.model import unwrap_type
from fedi_tui.core.state.tomledit import Edit
from tests.paths import DEMO


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command", [[], *[[c] for c in _subcommands()]], ids=lambda c: " ".join(c) or "top"
)
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: fedi-tui")
    assert len(out.splitlines()) > 3


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("fedi-tui ")


def test_python_dash_m_runs_the_same_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fedi_tui", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "validate" in done.stdout


@pytest.mark.parametrize(
    "command", [[], *[[c] for c in _subcommands()]], ids=lambda c: " ".join(c) or "top"
)
def test_a_bad_option_is_a_user_error_on_every_command(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # exit 1, like every user error; 2 would read as "plan found changes" in a script
    positional = {
        "get": ["provider.name"],
        "set": ["provider.name", '"X"'],
        "trust": ["bare-1"],
        "undeploy": ["--operator", "coop"],
        "backup": ["--operator", "coop"],
        "restore": ["--operator", "coop", "--from", "x"],
        "migrate": ["--operator", "coop"],
        "storage": ["status"],
        "sandbox": ["status"],
    }
    assert main([*command, *positional.get(" ".join(command), []), "--no-such-option"]) == 1
    err = capsys.readouterr().err
    assert "usage: fedi-tui" in err and "unrecognized arguments: --no-such-option" in err
    assert "--help" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--jsn"], "unrecognized arguments: --jsn"),
        (["get"], "the following arguments are required: KEY"),
        (["set", "provider.name"], "the following arguments are required: VALUE"),
        (["render", "--out"], "argument --out: expected one argument"),
        (["plan", "--facts", "f.json", "--live"], "not allowed with argument --facts"),
        (["pln"], "invalid choice: 'pln'"),
    ],
)
def test_usage_errors_exit_1_and_say_what_is_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unknown_command_suggests_the_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["valdate"]) == 1
    assert "did you mean 'validate'?" in capsys.readouterr().err


def test_the_process_exit_status_of_a_usage_error_is_1(demo_copy: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fedi_tui", "-s", str(demo_copy), "plan", "--jsn"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "--jsn" in done.stderr and done.stdout == ""


def test_validate_ok(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-s", str(demo_copy), "validate"]) == 0
    assert "valid" in capsys.readouterr().out


def _line_of(path: Path, text: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = lines.index(after)
    return start + 1 + lines[start:].index(text)


def test_validate_reports_what_cannot_be_placed_with_its_place(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two Mastodons on one NixOS host: valid values, but plan cannot place them."""
    save_state(load_state(demo_copy), [Edit(("operators", "coop", "runtime"), "bare-1")])
    assert main(["-s", str(demo_copy), "validate"]) == 1
    err = capsys.readouterr().err
    line = _line_of(demo_copy, "enable = true", "[operators.school.apps.mastodon]")
    assert (
        f"{demo_copy}:{line}:1: operators.school.apps.mastodon.enable: runtime bare-1 is one "
        "NixOS host and runs one mastodon: operators coop and school both enable it" in err
    )
    assert "problems in" in err and "Traceback" not in err


def test_validate_reports_a_machine_that_fits_no_node(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nodes = {"pve1": {"cores": 2, "memory_gib": 4, "disk_gib": 40}}
    save_state(load_state(demo_copy), [Edit(("runtimes", "pve-a", "nodes"), nodes)])
    assert main(["-s", str(demo_copy), "validate"]) == 1
    err = capsys.readouterr().err
    line = _line_of(demo_copy, "[operators.coop.apps.mastodon]", "[operators.coop]")
    assert f"{demo_copy}:{line}:1: operators.coop.apps.mastodon: coop-mastodon (needs" in err


def test_state_from_environment(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDI_STATE", str(demo_copy))
    assert main(["validate"]) == 0


def test_state_defaults_to_fedi_toml_in_cwd(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_copy.parent)
    assert main(["validate"]) == 0


def test_missing_state_file_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-s", str(tmp_path / "nope.toml"), "validate"]) == 1
    err = capsys.readouterr().err
    assert "nope.toml" in err and "--state" in err and "Traceback" not in err


def test_get_values(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-s", str(demo_copy), "get", "provider.name"]) == 0
    assert capsys.readouterr().out == "Demo Hosting\n"
    assert main(["-s", str(demo_copy), "get", "operators.coop.apps.mastodon.enable"]) == 0
    assert capsys.readouterr().out == "true\n"
    # not in the file, so the default is shown
    assert (
        main(["-s", str(demo_copy), "get", "operators.school.apps.mastodon.media_retention_days"])
        == 0
    )
    assert capsys.readouterr().out == "30\n"
    # secrets print as the reference, which is all the file has
    assert main(["-s", str(demo_copy), "get", "runtimes.pve-a.token"]) == 0
    assert capsys.readouterr().out == '{ env = "PVE_TOKEN" }\n'


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("operators.coop.apps.mastodn", "did you mean 'mastodon'"),
        ("provider.nme", "did you mean 'name'"),
        ("runtimes.pve-z", "did you mean 'pve-a'"),
        ("operators.school.apps.pixelfed.siez", "did you mean 'size'"),  # under an unset app
        ("runtimes.pve-a.token.fil", "did you mean 'file'"),
        ("provider.name.first", "provider.name is a value, not a table"),
        ("nothing", "keys there: "),
    ],
)
def test_get_unknown_key_suggests(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], key: str, hint: str
) -> None:
    assert main(["-s", str(demo_copy), "get", key]) == 1
    err = capsys.readouterr().err
    assert hint in err and "internal error" not in err


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("provider.state_dir", "does not set it and it has no default"),
        ("runtimes.pve-a.fingerprint", "does not set it and it has no default"),
        ("runtimes.bare-1.host_key", "does not set it and it has no default"),
        ("operators.school.apps.pixelfed", "does not set it"),
        ("operators.school.apps.pixelfed.size", "has no operators.school.apps.pixelfed"),
    ],
)
def test_get_of_an_unset_key_says_so(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], key: str, why: str
) -> None:
    assert main(["-s", str(demo_copy), "get", key]) == 0
    out, err = capsys.readouterr()
    assert out == ""  # a script reading the value gets an empty string
    assert f"{key} is not set: " in err and why in err


def test_get_of_a_default_prints_it_and_says_it_is_the_default(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-s", str(demo_copy), "get", "runtimes.pve-a.overcommit"]) == 0
    out, err = capsys.readouterr()
    assert out == "{ cpu = 4.0, memory = 1.0, disk = 1.0 }\n"
    assert "runtimes.pve-a.overcommit is not in" in err and "this is the default" in err
    # a value the file writes is printed without a note
    assert main(["-s", str(demo_copy), "get", "provider.name"]) == 0
    assert capsys.readouterr().err == ""


def _every_key(model: type[BaseModel], at: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for name, field in model.model_fields.items():
        key = (*at, field.alias or name)
        yield key
        inner = unwrap_type(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _every_key(inner, key)


def _demo_keys() -> list[tuple[str, ...]]:
    spec = load_state(DEMO).spec
    keys = list(_every_key(type(spec.provider), ("provider",)))
    for name, runtime in spec.runtimes.items():
        keys += _every_key(type(runtime), ("runtimes", name))
    for name, storage in spec.storage.items():
        keys += _every_key(type(storage), ("storage", name))
    for op, operator in spec.operators.items():
        keys += _every_key(type(operator), ("operators", op))
    return keys


def test_get_answers_every_key_of_the_model(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Written, default or unset: every key the model has is exit 0, never an internal error."""
    keys = _demo_keys()
    assert len(keys) > 100
    for key in keys:
        assert main(["-s", str(demo_copy), "get", ".".join(key)]) == 0, key
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("operators.coop.apps.mastodon.enable", "yes", "is not a TOML value"),
        ("operators.coop.apps.mastodon.enable", '"yes"', "expected true or false"),
        ("operators.coop.apps.mastodon.size", '"huge"', "'tiny', 'small', 'medium' or 'large'"),
        ("operators.coop.apps.mastodon.enabel", "true", "did you mean 'enable'"),
        ("operators.coop.runtime", '"pve-z"', "no [runtimes.pve-z] is defined"),
        ("runtimes.pve-a.token", '"s3cr3t-value"', "write a reference instead"),
        ("operators..x", "1", "is not a dotted key"),
    ],
)
def test_set_refuses_bad_key_or_value(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, message: str
) -> None:
    before = demo_copy.read_bytes()
    assert main(["-s", str(demo_copy), "set", key, value]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "s3cr3t-value" not in err
    assert demo_copy.read_bytes() == before


def test_unexpected_error_prints_one_line_and_logs_trace(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedi_tui.cli.statecmds as statecmds

    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(statecmds, "load", boom)
    assert main(["-s", str(demo_copy), "validate"]) == 70
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error (RuntimeError)" in err
    log = Path(err.split("full trace in ")[1].split(". Please")[0])
    assert "RuntimeError: boom" in log.read_text()


def test_read_only_refuses_commands_that_write(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = demo_copy.read_bytes()
    assert main(["-s", str(demo_copy), "--read-only", "set", "provider.name", '"X"']) == 1
    assert "--read-only" in capsys.readouterr().err
    assert demo_copy.read_bytes() == before
    assert main(["-s", str(demo_copy), "--read-only", "validate"]) == 0


def test_apps_speaks_the_state_files_language(capsys: pytest.CaptureFixture[str]) -> None:
    """Defaults as they are written in fedi.toml, no Python reprs, plurals right."""
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    for python in ("= None", "= False", "= True", "'approval'", ": str,", ": int,", "1 cores"):
        assert python not in out, python
    assert "    domain: domain name, optional\n" in out
    assert '    registration_mode: "open", "approval" or "closed", default "approval"\n' in out
    assert "    enable: true or false, default false\n" in out
    assert "    admin.email: e-mail address, required\n" in out
    assert '    site_description: text, default ""\n' in out
    assert '    transcoding.resolutions: list of "144p", ' in out
    assert "    tiny    up to 10 users: 1 core, 2 GiB memory, 20 GiB disk, 50 GiB S3\n" in out
    assert "  options, in [operators.<id>.apps.pixelfed]:\n" in out
