"""A state file others can change is not trusted with secrets (like OpenSSH's StrictModes).

Reading, validating and rendering it still work; resolving its secrets does
not, unless --trust-state-file says so.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedi_tui.cli import main
from fedi_tui.core.state.file import load_state
from fedi_tui.core.state.secretref import SecretRef
from fedi_tui.core.state.trust import (
    UntrustedStateFile,
    check_secrets_allowed,
    trust_state_files,
    untrusted_reason,
)
from tests.fixtures.sshd import FAST_USER, ensure_user
from tests.paths import DEMO, DEMO_DEPLOY_KEY


@pytest.fixture(autouse=True)
def _no_override() -> Iterator[None]:
    trust_state_files(False)
    yield
    trust_state_files(False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A directory only this user can write, with a state file in it."""
    directory = tmp_path / "home"
    directory.mkdir(mode=0o700)
    shutil.copyfile(DEMO, directory / "fedi.toml")
    (directory / "fedi.toml").chmod(0o644)
    shutil.copyfile(DEMO_DEPLOY_KEY, directory / DEMO_DEPLOY_KEY.name)
    return directory


def _other_uid() -> int:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    return pwd.getpwnam(ensure_user(FAST_USER)).pw_uid


def share(path: Path, mode: int) -> None:
    """Give `path` mode `mode` and a group another user is in (not the owner's own)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file another group")
    os.chown(path, -1, pwd.getpwnam(ensure_user(FAST_USER)).pw_gid)
    path.chmod(mode)


def test_a_file_only_its_owner_can_write_is_trusted(home: Path) -> None:
    assert untrusted_reason(home / "fedi.toml") is None


@pytest.mark.parametrize(
    ("mode", "who"),
    [
        (0o664, "its group can write it (mode 0664)"),
        (0o646, "everyone can write it (mode 0646)"),
        (0o666, "its group and everyone can write it (mode 0666)"),
    ],
)
def test_a_file_others_can_write_is_not(home: Path, mode: int, who: str) -> None:
    share(home / "fedi.toml", mode)
    assert untrusted_reason(home / "fedi.toml") == f"{home / 'fedi.toml'}: {who}"


def test_a_file_of_someone_else_is_not(home: Path) -> None:
    os.chown(home / "fedi.toml", _other_uid(), -1)
    reason = untrusted_reason(home / "fedi.toml")
    assert reason is not None and f"belongs to {FAST_USER}, not to you" in reason


def test_the_owners_private_group_may_write_it(home: Path) -> None:
    """umask 002 with user private groups: group-writable, but the group is the owner alone."""
    me = pwd.getpwuid(os.geteuid())
    if grp.getgrgid(me.pw_gid).gr_name != me.pw_name:
        pytest.skip("this user has no private group")
    os.chown(home / "fedi.toml", -1, me.pw_gid)
    (home / "fedi.toml").chmod(0o664)
    home.chmod(0o770)
    os.chown(home, -1, me.pw_gid)
    assert untrusted_reason(home / "fedi.toml") is None


def test_a_directory_others_can_write_makes_the_file_untrusted(home: Path) -> None:
    home.chmod(0o777)
    reason = untrusted_reason(home / "fedi.toml")
    assert reason is not None and f"{home}, a directory above fedi.toml" in reason
    assert "others can replace the file" in reason
    home.chmod(0o1777)  # sticky, like /tmp: others cannot replace a file they do not own
    assert untrusted_reason(home / "fedi.toml") is None


def test_a_directory_of_someone_else_makes_the_file_untrusted(home: Path) -> None:
    os.chown(home, _other_uid(), -1)
    reason = untrusted_reason(home / "fedi.toml")
    assert reason is not None and f"belongs to {FAST_USER}: they can replace the file" in reason


def test_a_link_to_a_file_in_an_open_directory_is_not_trusted(home: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (home / "fedi.toml").rename(shared / "fedi.toml")
    (home / "fedi.toml").symlink_to(shared / "fedi.toml")
    reason = untrusted_reason(home / "fedi.toml")
    assert reason is not None and f"{shared}, a directory above" in reason


# --- resolving secrets ----------------------------------------------------------------


def _command_secret(home: Path, marker: Path) -> SecretRef:
    return SecretRef(command=f'{sys.executable} -c \'open("{marker}", "w"); print("tok")\'')


def test_secrets_of_an_untrusted_state_file_are_refused(home: Path) -> None:
    marker = home / "ran"
    share(home / "fedi.toml", 0o664)
    load_state(home / "fedi.toml")
    with pytest.raises(UntrustedStateFile) as caught:
        _command_secret(home, marker).resolve(home)
    assert not marker.exists()  # the command did not run
    text = str(caught.value)
    assert f"not reading secrets for {home / 'fedi.toml'}" in text
    assert "its group can write it (mode 0664)" in text
    assert "A state file is code" in text and "--trust-state-file" in text
    with pytest.raises(UntrustedStateFile):
        SecretRef(env="HOME").resolve(home)  # every kind: an env secret is sent too


def test_fixing_the_mode_and_reading_again_trusts_it(home: Path) -> None:
    share(home / "fedi.toml", 0o664)
    load_state(home / "fedi.toml")
    with pytest.raises(UntrustedStateFile):
        check_secrets_allowed(home)
    (home / "fedi.toml").chmod(0o600)
    load_state(home / "fedi.toml")
    check_secrets_allowed(home)
    assert _command_secret(home, home / "ran").resolve(home).get_secret_value() == "tok"


def test_the_override_resolves_them(home: Path) -> None:
    share(home / "fedi.toml", 0o664)
    load_state(home / "fedi.toml")
    trust_state_files(True)
    assert _command_secret(home, home / "ran").resolve(home).get_secret_value() == "tok"
    assert (home / "ran").exists()


def test_reading_an_untrusted_state_file_still_works(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(home / "fedi.toml")
    share(home / "fedi.toml", 0o666)
    assert main(["-s", state, "validate"]) == 0
    assert main(["-s", state, "get", "runtimes.pve-a.token"]) == 0
    assert main(["-s", state, "render", "--out", str(tmp_path / "out")]) == 0
    assert main(["-s", state, "plan", "--no-diff"]) == 2
    assert "not reading secrets" not in capsys.readouterr().err


def test_the_flag_is_for_one_run_only(home: Path) -> None:
    share(home / "fedi.toml", 0o664)
    assert main(["--trust-state-file", "-s", str(home / "fedi.toml"), "validate"]) == 0
    check_secrets_allowed(home)  # this run trusts it
    assert main(["-s", str(home / "fedi.toml"), "validate"]) == 0
    with pytest.raises(UntrustedStateFile):
        check_secrets_allowed(home)  # the next run does not
