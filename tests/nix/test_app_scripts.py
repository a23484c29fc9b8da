"""The fediversity modules' own admin scripts, as the real NixOS module tree renders them.

Their text comes from evaluating the generated state's `host` machine (all three apps)
under the real module tree (tests/nix/eval-machine.nix, `scripts`). Each is checked with
shellcheck as `writeShellApplication` would at build time, then run with bash under the
same shell options: PeerTube's against a stand-in of PeerTube's REST API
(tests/fixtures/peertube_api.py), Pixelfed's against a `pixelfed-manage` that records
what tinker is given. Every program the scripts start runs through a shim that records
its command line, and no secret may appear there: other users of a machine can read
every process's command line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from fedi_tui.core.apps.base import SecretNeed
from fedi_tui.core.deploy.secretgen import generate_secret, random_hex
from tests.fixtures.peertube_api import ADMINISTRATOR, USER, PeertubeApi
from tests.nix.rendered_states import Rendered

pytestmark = pytest.mark.nixos

PREAMBLE = "#!/usr/bin/env bash\nset -o errexit\nset -o nounset\nset -o pipefail\n"
"""What writeShellApplication puts before the text."""
SHIMMED = ("curl", "jq", "base64", "tr", "mktemp", "rm", "cat", "head", "grep", "tail")


def script(rendered: Rendered, name: str) -> str:
    scripts = rendered.results["gen/host"]["values"]["scripts"]
    assert name in scripts, sorted(scripts)
    return str(scripts[name])


def point(text: str, **values: str) -> str:
    """The script with its `name=value` settings (first lines) replaced by these."""
    for name, value in values.items():
        text, count = re.subn(rf"(?m)^{name}=.*$", f"{name}='{value}'", text, count=1)
        assert count == 1, name
    return text


@dataclass
class Machine:
    """A directory standing in for the machine: secrets, shims that log argv, the script."""

    root: Path

    @property
    def argv_log(self) -> Path:
        return self.root / "argv.log"

    def shim(self, name: str, body: str | None = None) -> None:
        real = shutil.which(name)
        tail = body if body is not None else f'exec {real} "$@"\n'
        path = self.root / "bin" / name
        log = self.argv_log
        path.write_text(f'#!/bin/sh\nprintf "%s " {name} "$@" >> {log}\necho >> {log}\n{tail}')
        path.chmod(0o755)

    def run(self, text: str) -> subprocess.CompletedProcess[str]:
        path = self.root / "script"
        path.write_text(PREAMBLE + text)
        (self.root / "tmp").mkdir(exist_ok=True)
        env = {
            "PATH": f"{self.root / 'bin'}:/usr/bin:/bin",
            "LC_ALL": "C.UTF-8",
            "TMPDIR": str(self.root / "tmp"),
        }
        return subprocess.run(
            ["bash", str(path)], capture_output=True, text=True, env=env, timeout=60, check=False
        )


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    (tmp_path / "bin").mkdir()
    m = Machine(tmp_path)
    for name in SHIMMED:
        m.shim(name)
    return m


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("name", ["fediversity-peertube-admin", "fediversity-pixelfed-admin"])
def test_script_passes_shellcheck_as_its_build_checks_it(
    rendered: Rendered, name: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(PREAMBLE + script(rendered, name))
    checked = subprocess.run(["shellcheck", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


# --- PeerTube ---------------------------------------------------------------------------


@dataclass
class Peertube:
    api: PeertubeApi
    text: str
    secrets: dict[str, str]


@pytest.fixture
def peertube(rendered: Rendered, machine: Machine) -> Iterator[Peertube]:
    env = generate_secret(
        SecretNeed("service.env", "env", ("PT_INITIAL_ROOT_PASSWORD",)), "GKid", SecretStr("s3s")
    ).get_secret_value()
    root_password = re.search(r"^PT_INITIAL_ROOT_PASSWORD=(.*)$", env, re.M)
    assert root_password is not None
    secrets = {"service.env": env, "admin-password": random_hex() + "\n"}
    for name, value in secrets.items():
        (machine.root / name).write_text(value)
        (machine.root / name).chmod(0o400)
    api = PeertubeApi(
        host="peertube.hostop.test", root_password=root_password[1], admin_email="admin@hostop.test"
    )
    api.start()
    text = point(
        script(rendered, "fediversity-peertube-admin"),
        api=api.url,
        env_file=str(machine.root / "service.env"),
        password_file=str(machine.root / "admin-password"),
    )
    yield Peertube(api, text, {**secrets, "root": root_password[1], "api-token": api.token})
    api.close()


def _no_secret_in(machine: Machine, pt: Peertube, *outputs: str) -> None:
    seen = machine.argv_log.read_text() + "".join(outputs)
    for name, value in pt.secrets.items():
        for part in (value.strip(), *re.findall(r"=(\S+)", value)):
            assert part not in seen, name


def test_peertube_script_makes_the_admin_an_administrator_once(
    peertube: Peertube, machine: Machine
) -> None:
    first = machine.run(peertube.text)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "created admin account admin\n"
    admin, root = peertube.api.users["admin"], peertube.api.users["root"]
    assert (admin.email, admin.role) == ("admin@hostop.test", ADMINISTRATOR)
    assert admin.password == peertube.secrets["admin-password"].strip()
    assert root.email == "root@peertube.hostop.test"  # e-mails are unique in PeerTube
    assert root.password == peertube.secrets["root"]

    again = machine.run(peertube.text)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "admin account admin exists\n"
    assert len([r for r in peertube.api.requests if r[:2] == ("POST", "/api/v1/users")]) == 1
    _no_secret_in(machine, peertube, first.stdout, first.stderr, again.stdout, again.stderr)
    assert list((machine.root / "tmp").iterdir()) == []  # its private directory is removed


def test_peertube_script_makes_an_existing_user_an_administrator(
    peertube: Peertube, machine: Machine
) -> None:
    peertube.api.add("admin", "admin@hostop.test", "their-own", USER)
    done = machine.run(peertube.text)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "made admin an administrator\n"
    assert peertube.api.users["admin"].role == ADMINISTRATOR
    assert peertube.api.users["admin"].password == "their-own"  # never reset


def test_peertube_script_says_why_when_root_has_another_password(
    peertube: Peertube, machine: Machine
) -> None:
    peertube.api.users["root"].password = "set-by-hand"
    failed = machine.run(peertube.text)
    assert failed.returncode == 1
    assert "cannot log in as root with the generated password" in failed.stderr
    assert "Invalid grant" in failed.stderr
    assert "admin" not in peertube.api.users
    _no_secret_in(machine, peertube, failed.stdout, failed.stderr)


def test_peertube_script_says_where_when_peertube_does_not_answer(
    peertube: Peertube, machine: Machine
) -> None:
    peertube.api.close()
    failed = machine.run(peertube.text)
    assert failed.returncode == 1
    assert (
        f"PeerTube does not answer at {peertube.api.url} (GET /oauth-clients/local)"
        in failed.stderr
    )
    peertube.api.start()  # for the fixture's close


def test_peertube_script_names_a_missing_secret_file(peertube: Peertube, machine: Machine) -> None:
    (machine.root / "admin-password").unlink()
    failed = machine.run(peertube.text)
    assert failed.returncode == 1
    assert (
        f"cannot read {machine.root / 'admin-password'} (the deploy tool pushes it)"
        in failed.stderr
    )
    assert peertube.api.requests == []


# --- Pixelfed ---------------------------------------------------------------------------

TINKER = r"""
# pixelfed-manage stand-in: `tinker` keeps its standard input (the PHP program) and
# answers as the program would with the users in users/
[ "$1" = tinker ] || { echo "unsupported: $*" >&2; exit 1; }
here=$(dirname "$0")/..
cat > "$here/program.php"
grep -q "username', \$username)->first()" "$here/program.php" || exit 1
if [ -e "$here/users/admin" ]; then echo "= fediversity: exists"; exit 0; fi
mkdir -p "$here/users" && : > "$here/users/admin" && echo "= fediversity: created"
"""


@pytest.fixture
def pixelfed(rendered: Rendered, machine: Machine) -> tuple[str, str]:
    password = random_hex()
    (machine.root / "admin-password").write_text(password + "\n")
    machine.shim("pixelfed-manage", TINKER)
    text = point(
        script(rendered, "fediversity-pixelfed-admin"),
        password_file=str(machine.root / "admin-password"),
    )
    return text, password


def _decoded(program: str) -> dict[str, str]:
    import base64

    return {
        name: base64.b64decode(value).decode()
        for name, value in re.findall(r"\$(\w+) = base64_decode\('([A-Za-z0-9+/=]*)'\);", program)
    }


def test_pixelfed_script_gives_tinker_the_admin_on_stdin_never_on_argv(
    pixelfed: tuple[str, str], machine: Machine
) -> None:
    text, password = pixelfed
    first = machine.run(text)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "created admin account admin\n"
    program = (machine.root / "program.php").read_text()
    assert _decoded(program) == {
        "username": "admin",
        "email": "admin@hostop.test",
        "password": password,
    }
    assert "Artisan::call('user:create'" in program and "'--is_admin' => 1" in program
    assert password not in program  # only its encoding
    again = machine.run(text)
    assert again.stdout == "admin account admin exists\n"
    calls = machine.argv_log.read_text()
    assert "pixelfed-manage tinker \n" in calls
    assert password not in calls + first.stderr + again.stderr


def test_pixelfed_script_keeps_the_password_out_of_its_error(
    pixelfed: tuple[str, str], machine: Machine
) -> None:
    text, password = pixelfed
    machine.shim(
        "pixelfed-manage", f'echo "PDOException: no database"; echo "leak {password}"; exit 255\n'
    )
    failed = machine.run(text)
    assert failed.returncode == 1
    assert (
        "user:create did not create admin: pixelfed-manage tinker failed: PDOException"
        in failed.stderr
    )
    assert password not in failed.stderr + failed.stdout
