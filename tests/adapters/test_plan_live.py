"""`fedi-tui plan --live`: the demo state planned against a fakepve cluster, end to end.

fakepve's nodes always report 4 CPUs and 8 GiB. The state sets the memory
overcommit to 2.0, so each node offers 16 GiB when nothing else runs on it — the
demo fits — and other guests on the nodes make it not fit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]
from fakepve.certs import make_cert  # type: ignore[import-untyped]

from fedi_tui.adapters.probe import fingerprint_of_der
from fedi_tui.cli import main
from fedi_tui.core.state.file import load_state
from tests.fixtures.rawhttps import RawServer
from tests.fixtures.sshd import free_port
from tests.paths import DEMO, DEMO_DEPLOY_KEY

pytestmark = pytest.mark.real

TOKEN = "0b5e7c1d-93af-4c2e-8d71-5f0a9e3b6c42"
GIB = 1024**3


def demo_state(
    tmp_path: Path, url: str, cafile: str = "", extra: str = "", *, fingerprint: str = ""
) -> Path:
    """sample-configs/demo.toml with pve-a pointed at the fake (and 2x memory overcommit);
    its certificate trusted through *cafile*, or pinned by *fingerprint*."""
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace('api = "https://127.0.0.1:8006"', f'api = "{url}"', 1)
    trust = f'fingerprint = "{fingerprint}"' if fingerprint else f'ca_file = "{cafile}"'
    text = text.replace('ca_file = "pve-ca.pem"', trust, 1)
    text = text.replace(
        'placement = "vm-per-app"', 'placement = "vm-per-app"\novercommit = { memory = 2.0 }', 1
    )
    path = tmp_path / "fedi.toml"
    path.write_text(text + extra, encoding="utf-8")
    shutil.copyfile(DEMO_DEPLOY_KEY, tmp_path / DEMO_DEPLOY_KEY.name)
    load_state(path)  # still a valid state file
    return path


@pytest.fixture
def cluster(fakepve: FakePve, monkeypatch: pytest.MonkeyPatch) -> FakePve:
    monkeypatch.setenv("PVE_TOKEN", TOKEN)
    fakepve.apitokens["root@pam!fedi"] = TOKEN
    fakepve.add_node("pve2")
    fakepve.add_vm(
        9000,
        "nixos-template",
        template=True,
        config={"scsi0": "local-lvm:base-9000-disk-0,size=8G"},
    )
    fakepve.storages["local-lvm"].update(total=200 * GIB, avail=192 * GIB)
    return fakepve


def test_live_plan_uses_what_the_cluster_reports(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone else's VM with the first VMID of fedi-tui's range, on pve2: 1 CPU, 1 GiB.
    cluster.add_vm(10000, "legacy", node="pve2", config={"cores": 1, "memory": 1024})
    state = demo_state(tmp_path, cluster.url, fakepve_cafile)
    code = main(["-s", str(state), "plan", "--live", "--explain", "--no-diff"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert (
        f"Observed runtime pve-a ({cluster.url}): "
        "pve1 4 cores, 8 GiB memory, 192 GiB disk; pve2 3 cores, 7 GiB memory, 192 GiB disk"
    ) in out
    placed = dict(re.findall(r"^  (\S+) → (\S+ vmid \d+)", out, re.M))
    assert placed == {
        "coop-mastodon": "pve1 vmid 10001",  # 10000 is taken
        "coop-peertube": "pve2 vmid 10002",
        "photoclub-pixelfed": "pve2 vmid 10003",
    }
    assert "pve1: most free memory (16 GiB)" in out  # 8 GiB observed x 2.0, not 128 declared
    assert {method for method, _, _ in cluster.requests} == {"GET"}  # planning changes nothing

    # Without --live the declared 128 GiB nodes are used.
    assert main(["-s", str(state), "plan", "--explain", "--no-diff"]) == 2
    assert "most free memory (256 GiB)" in capsys.readouterr().out


def test_live_plan_fails_when_the_cluster_is_too_full(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.add_vm(100, "billing", node="pve1", status="running", config={"memory": 4096})
    cluster.add_vm(101, "mail", node="pve2", config={"memory": 4096})
    state = demo_state(tmp_path, cluster.url, fakepve_cafile)
    assert main(["-s", str(state), "plan", "--live"]) == 1
    out, err = capsys.readouterr()
    assert "pve1 3 cores, 4 GiB memory" in out
    assert "cannot place every machine" in err
    assert (
        "coop-mastodon (needs 4 cores, 12 GiB memory, 60 GiB disk): no node has 12 GiB "
        "memory free; most free: pve1 with 8 GiB"
    ) in err


def test_live_plan_as_json_keeps_stdout_clean(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = demo_state(tmp_path, cluster.url, fakepve_cafile)
    assert main(["-s", str(state), "plan", "--live", "--json"]) == 2
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert {m["name"]: m.get("node") for m in doc["machines"] if m["kind"] == "proxmox"} == {
        "coop-mastodon": "pve1",
        "coop-peertube": "pve2",
        "photoclub-pixelfed": "pve2",
    }
    assert "Observed runtime pve-a" in err


def test_live_and_facts_are_mutually_exclusive(
    cluster: FakePve, fakepve_cafile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = demo_state(tmp_path, cluster.url, fakepve_cafile)
    # a usage error: exit 1, not 2 (which would mean "changes found")
    assert main(["-s", str(state), "plan", "--live", "--facts", str(tmp_path / "f.json")]) == 1
    assert "--facts: not allowed with argument --live" in capsys.readouterr().err
    assert cluster.requests == []


def test_live_plan_lists_every_runtime_that_failed(
    cluster: FakePve,
    fakepve_cafile: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("PVE_B_TOKEN", "not-the-token")

    def runtime(name: str, url: str, env: str) -> str:
        return f"""
[runtimes.{name}]
kind = "proxmox"
api = "{url}"
token_id = "root@pam!fedi"
token = {{ env = "{env}" }}
ca_file = "{fakepve_cafile}"
template = 9000
ssh = {{ key = "~/.ssh/k" }}
nodes = {{ pve1 = {{ cores = 4, memory_gib = 8, disk_gib = 100 }} }}
network = {{ cidr = "127.0.11.0/24", gateway = "127.0.11.1", pool = "127.0.11.10-127.0.11.99" }}
"""

    extra = runtime("pve-b", cluster.url, "PVE_B_TOKEN") + runtime(
        "pve-c", f"https://127.0.0.1:{closed}", "PVE_TOKEN"
    )
    state = demo_state(tmp_path, cluster.url, fakepve_cafile, extra)
    assert main(["-s", str(state), "plan", "--live"]) == 1
    out, err = capsys.readouterr()
    assert f"runtime pve-b ({cluster.url}): the API refused the token root@pam!fedi (401" in err
    assert "env 'PVE_B_TOKEN'" in err
    assert f"runtime pve-c (https://127.0.0.1:{closed}): connection refused" in err
    assert "runtime pve-a" not in err  # that one was fine
    assert TOKEN not in out + err and "not-the-token" not in out + err


# --- a server that is not Proxmox, or does not answer ------------------------------


@pytest.fixture
def openssl_www(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`openssl s_server -www` on 127.0.0.1: HTTPS, answering every request with an HTML
    status page. Yields its URL and its certificate's fingerprint."""
    cert, key, der = make_cert(str(tmp_path), name="s_server")
    port = free_port("127.0.0.1")
    argv = ["openssl", "s_server", "-quiet", "-www", "-accept", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*argv, "-cert", cert, "-key", key],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(500):  # until it listens (bounded: 5 s)
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "openssl s_server did not start"
            time.sleep(0.01)
        yield f"https://127.0.0.1:{port}", fingerprint_of_der(der)
    finally:
        proc.terminate()
        proc.wait(10)


def test_live_plan_against_an_https_server_that_is_not_proxmox(
    openssl_www: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, pin = openssl_www
    monkeypatch.setenv("PVE_TOKEN", TOKEN)
    state = demo_state(tmp_path, url, fingerprint=pin)
    assert main(["-s", str(state), "plan", "--live"]) == 1
    out, err = capsys.readouterr()
    assert f"runtime pve-a ({url}): list the nodes: expected a JSON answer from the " in err
    assert "Proxmox VE API, got 200 text/html" in err
    assert "is runtimes.pve-a.api the address of a Proxmox VE node" in err
    assert "internal error" not in err and "Traceback" not in err
    assert TOKEN not in out + err


def test_ctrl_c_stops_a_live_plan_waiting_for_an_answer(tmp_path: Path) -> None:
    """The server takes the request and never answers. Ctrl+C ends the command at once
    with exit 130 — not when the 30 s read timeout would have ended the request."""
    with RawServer(tmp_path, None) as server:
        state = demo_state(tmp_path, server.url, fingerprint=fingerprint_of_der(server.der))
        proc = subprocess.Popen(
            [sys.executable, "-m", "fedi_tui", "-s", str(state), "plan", "--live"],
            env=os.environ | {"PVE_TOKEN": TOKEN},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.got_request.wait(60), "the plan never asked the server"
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10)  # far below the 30 s the request may wait
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "fedi-tui: interrupted" in err
    assert "Traceback" not in err
