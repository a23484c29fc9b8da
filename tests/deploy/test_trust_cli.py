"""`fedi-tui trust`: a host key is pinned only after it was shown and compared."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import HostFactory, write_state
from tests.deploy.test_apply_cli import fedi

pytestmark = pytest.mark.real


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True).stdout
    return out.split()[1]


@pytest.mark.slow
def test_trust_then_apply(tmp_path: Path, deploy_hosts: HostFactory) -> None:
    host, other = deploy_hosts(), deploy_hosts()
    path = write_state(tmp_path, [host])
    path.write_text(path.read_text().replace(f'host_key = "{host.ssh.host_public_key}"\n', ""))
    right = fingerprint(host.ssh.host_public_key_file)

    no_fp = fedi(path, "trust", "host1", "--yes")
    assert no_fp.returncode == 1 and "needs --fingerprint" in no_fp.stderr
    wrong = fedi(
        path,
        "trust",
        "host1",
        "--yes",
        "--fingerprint",
        fingerprint(other.ssh.host_public_key_file),
    )
    assert wrong.returncode == 1 and "refused" in wrong.stderr
    asked = fedi(path, "trust", "host1")  # no terminal to ask on
    assert asked.returncode == 1 and right in asked.stdout
    known = tmp_path / ".fedi" / "known_hosts"
    assert known.read_text() == ""

    ok = fedi(path, "trust", "host1", "--yes", "--fingerprint", right)
    assert ok.returncode == 0, ok.stderr
    assert known.read_text() == f"[{host.ssh.address}]:{host.ssh.port} {host.ssh.host_public_key}\n"
    assert "trusted already" in fedi(path, "trust", "host1").stdout.replace(
        "It is trusted", "trusted"
    )
    done = fedi(path, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr

    known.write_text(f"[{host.ssh.address}]:{host.ssh.port} {other.ssh.host_public_key}\n")
    changed = fedi(path, "trust", "host1", "--yes", "--fingerprint", right)
    assert changed.returncode == 1 and "CHANGED" in changed.stderr
    assert fedi(path, "apply", "--yes").returncode == 0  # nothing to do: no login needed
