"""`plan --live` and the secrets of the state file, against fakepve.

An untrusted state file (others can change it) gets no secret resolved: its
`{ command = … }` does not run and nothing is sent to the endpoint it names.
A secret file that is not text is named in the error.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]

from fedi_tui.cli import main
from fedi_tui.core.state.trust import trust_state_files
from tests.paths import DEMO, DEMO_DEPLOY_KEY
from tests.unit.test_trust import share

pytestmark = pytest.mark.real

TOKEN = "7d1c6f0e-2b9a-4e58-9c3d-0a4b5e6f7a81"


@pytest.fixture(autouse=True)
def _no_override() -> Iterator[None]:
    yield
    trust_state_files(False)


@pytest.fixture
def cluster(fakepve: FakePve) -> FakePve:
    fakepve.apitokens["root@pam!fedi"] = TOKEN
    fakepve.add_node("pve2")
    fakepve.add_vm(
        9000,
        "nixos-template",
        template=True,
        config={"scsi0": "local-lvm:base-9000-disk-0,size=8G"},
    )
    fakepve.storages["local-lvm"].update(total=200 * 1024**3, avail=192 * 1024**3)
    return fakepve


def _state(directory: Path, url: str, cafile: str, token: str) -> Path:
    directory.mkdir(mode=0o700)
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace('api = "https://127.0.0.1:8006"', f'api = "{url}"', 1)
    text = text.replace('ca_file = "pve-ca.pem"', f'ca_file = "{cafile}"', 1)
    text = text.replace('token = { env = "PVE_TOKEN" }', f"token = {token}", 1)
    # fakepve's nodes have 8 GiB each: let the demo fit
    text = text.replace(
        'placement = "vm-per-app"', 'placement = "vm-per-app"\novercommit = { memory = 2.0 }', 1
    )
    path = directory / "fedi.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    shutil.copyfile(DEMO_DEPLOY_KEY, directory / DEMO_DEPLOY_KEY.name)
    return path


def _command_token(marker: Path) -> str:
    code = f"open('{marker}', 'w'); print('{TOKEN}')"
    return '{ command = "' + f'{sys.executable} -c \\"{code}\\"' + '" }'


def test_plan_live_refuses_the_secrets_of_a_state_file_others_can_change(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "command-ran"
    state = _state(tmp_path / "home", cluster.url, fakepve_cafile, _command_token(marker))
    share(state, 0o664)
    assert main(["-s", str(state), "plan", "--live", "--no-diff"]) == 1
    err = capsys.readouterr().err
    assert f"not reading secrets for {state}: {state}: its group can write it" in err
    assert "--trust-state-file" in err and "Traceback" not in err
    assert not marker.exists()  # the secret command did not run
    assert cluster.requests == []  # and nothing was sent to the endpoint


def test_plan_live_with_the_flag_resolves_them(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "command-ran"
    state = _state(tmp_path / "home", cluster.url, fakepve_cafile, _command_token(marker))
    share(state, 0o664)
    code = main(["--trust-state-file", "-s", str(state), "plan", "--live", "--no-diff"])
    assert code == 2, capsys.readouterr().err
    assert marker.exists() and cluster.requests != []


def test_plan_live_of_a_trusted_state_file_resolves_them(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "command-ran"
    state = _state(tmp_path / "home", cluster.url, fakepve_cafile, _command_token(marker))
    assert main(["-s", str(state), "plan", "--live", "--no-diff"]) == 2, capsys.readouterr().err
    assert marker.exists()


def test_a_secret_file_that_is_not_text_is_named(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _state(tmp_path / "home", cluster.url, fakepve_cafile, '{ file = "pve.token" }')
    (state.parent / "pve.token").write_bytes(b"\xff\xfe" + TOKEN.encode())
    assert main(["-s", str(state), "plan", "--live", "--no-diff"]) == 1
    err = capsys.readouterr().err
    assert "secret file 'pve.token': the file " in err
    assert f"{state.parent / 'pve.token'} is not UTF-8 text" in err
    assert "UnicodeDecodeError" not in err and TOKEN not in err
    assert cluster.requests == []
