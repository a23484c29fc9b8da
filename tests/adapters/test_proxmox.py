"""The Proxmox client against fakepve over real HTTPS, TLS verified (CA file or pinned fingerprint).

fakepve's fixture serves on 127.0.0.1 only. Its nodes always report 4 CPUs and
8 GiB (fakepve does not let a test size them); the tests size what fedi-tui may
use through the other guests on the nodes and the storage's total/avail instead.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]
from fakepve.certs import make_cert  # type: ignore[import-untyped]

from fedi_tui.adapters.probe import probe_url
from fedi_tui.adapters.proxmox import ProxmoxClient, ProxmoxError
from fedi_tui.core.deploy.observed import ObservedNode
from tests.adapters.proxmox_fixtures import (
    ENV,
    TOKEN,
    client,
    fedi_vm,
    fingerprint_of_pem,
    pve,
    run,
    runtime,
    vm_request,
)

pytestmark = pytest.mark.real

__all__ = ["client", "pve"]  # fixtures


# --- observe -----------------------------------------------------------------


def test_observe_subtracts_other_guests_and_reports_taken_vmids(
    pve: FakePve, client: ProxmoxClient
) -> None:
    pve.add_node("pve3")
    pve.set_node_offline("pve3")
    fedi_vm(pve, 10005, "pve1")  # fedi-tui's: in range and tagged
    fedi_vm(pve, 10006, "pve1", config={"tags": "", "cores": 1, "memory": 1024})  # untagged
    fedi_vm(pve, 555, "pve1", config={"cores": 1, "memory": 512})  # tagged, outside the range
    pve.add_vm(100, "billing", node="pve2", status="running", config={"cores": 2, "memory": 4096})
    pve.add_ct(200, "dns", node="pve2", config={"cores": 1, "memory": 512})
    spec = runtime(pve.url, ca_file=client.spec.ca_file, nodes=("pve1", "pve2", "pve3"))
    observed = run(ProxmoxClient("pve-a", spec).observe())

    # pve1: 4 CPUs, 8 GiB minus 10006 (1, 1 GiB) and 555 (1, 0.5 GiB); the template does not run.
    # Disk: 400 GiB free plus fedi-tui's own 20 GiB disk of 10005.
    assert observed.nodes["pve1"] == ObservedNode(cores=2, memory_gib=6.5, disk_gib=420.0)
    # pve2: minus VM 100 (2, 4 GiB) and container 200 (1, 0.5 GiB).
    assert observed.nodes["pve2"] == ObservedNode(cores=1, memory_gib=3.5, disk_gib=420.0)
    assert observed.nodes["pve3"] == ObservedNode(cores=0, memory_gib=0, disk_gib=0, online=False)
    assert observed.used_vmids == {9000, 10006, 555, 100, 200}
    assert {m for m, _, _ in pve.requests} == {"GET"}  # observing changes nothing


def test_observe_refuses_a_node_the_cluster_does_not_have(
    pve: FakePve, fakepve_cafile: str
) -> None:
    spec = runtime(pve.url, ca_file=fakepve_cafile, nodes=("pve1", "pve7"))
    with pytest.raises(ProxmoxError) as err:
        run(ProxmoxClient("pve-a", spec).observe())
    assert err.value.reason == "missing"
    assert "node pve7 of runtimes.pve-a.nodes is not in the cluster (it has: pve1, pve2)" in str(
        err.value
    )


def test_observe_names_a_missing_storage(pve: FakePve, fakepve_cafile: str) -> None:
    del pve.storages["local-lvm"]
    with pytest.raises(ProxmoxError) as err:
        run(ProxmoxClient("pve-a", runtime(pve.url, ca_file=fakepve_cafile)).observe())
    assert "storage 'local-lvm' (runtimes.pve-a.storage) does not exist on node pve1" in str(
        err.value
    )


# --- TLS ---------------------------------------------------------------------


def test_pinned_fingerprint_is_accepted_and_matches_what_the_probe_shows(
    pve: FakePve, fakepve_cafile: str
) -> None:
    pin = fingerprint_of_pem(fakepve_cafile)
    probed = run(probe_url(pve.url))
    assert probed.tls_fingerprint == pin  # what the runtimes screen would pin
    observed = run(ProxmoxClient("pve-a", runtime(pve.url, fingerprint=pin)).observe())
    assert observed.nodes["pve1"].online


def test_wrong_fingerprint_is_refused_before_anything_is_sent(
    pve: FakePve, fakepve_cafile: str
) -> None:
    pin = fingerprint_of_pem(fakepve_cafile)
    wrong = ("00" if not pin.startswith("00") else "11") + pin[2:]
    with pytest.raises(ProxmoxError) as err:
        run(ProxmoxClient("pve-a", runtime(pve.url, fingerprint=wrong)).observe())
    text = str(err.value)
    assert err.value.reason == "tls"
    assert f"has fingerprint {pin}, but fedi.toml pins {wrong}" in text
    assert "runtimes screen" in text and "Nothing was sent" in text
    assert pve.requests == []  # not one request (and so no token) reached the server


def test_certificate_from_another_ca_is_refused(pve: FakePve, tmp_path: Path) -> None:
    other_ca = make_cert(str(tmp_path), name="other", hosts=("127.0.0.1",))[0]
    for spec in (runtime(pve.url, ca_file=other_ca), runtime(pve.url)):  # CA file; system CAs
        with pytest.raises(ProxmoxError) as err:
            run(ProxmoxClient("pve-a", spec).observe())
        assert err.value.reason == "tls"
        assert "could not be verified" in str(err.value)
        assert "set ca_file or fingerprint" in str(err.value)
    assert pve.requests == []


def test_missing_ca_file_is_named(pve: FakePve, tmp_path: Path) -> None:
    spec = runtime(pve.url, ca_file="pve-ca.pem")
    with pytest.raises(ProxmoxError, match=r"pve-ca.pem.*does not exist"):
        run(ProxmoxClient("pve-a", spec, tmp_path).observe())


def test_relative_ca_file_is_read_beside_the_state_file(
    pve: FakePve, fakepve_cafile: str, tmp_path: Path
) -> None:
    (tmp_path / "pve-ca.pem").write_text(Path(fakepve_cafile).read_text())
    observed = run(
        ProxmoxClient("pve-a", runtime(pve.url, ca_file="pve-ca.pem"), tmp_path).observe()
    )
    assert set(observed.nodes) == {"pve1", "pve2"}


# --- failures the cluster reports -----------------------------------------------


def test_bad_token_is_401_and_names_the_source(
    pve: FakePve, client: ProxmoxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "wrong-secret-value")
    with pytest.raises(ProxmoxError) as err:
        run(client.observe())
    text = str(err.value)
    assert err.value.reason == "auth"
    assert "refused the token root@pam!fedi (401 authentication failure)" in text
    assert f"env '{ENV}'" in text
    assert "wrong-secret-value" not in text and TOKEN not in text


def test_connection_refused(fakepve_cafile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    with pytest.raises(ProxmoxError) as err:
        run(ProxmoxClient("pve-a", runtime(url, ca_file=fakepve_cafile)).observe())
    assert err.value.reason == "connect"
    assert f"connection refused on 127.0.0.1:{port}" in str(err.value)


def test_node_offline_is_observed_as_offline(pve: FakePve, client: ProxmoxClient) -> None:
    pve.set_node_offline("pve2")
    observed = run(client.observe())
    assert observed.nodes["pve2"].online is False and observed.nodes["pve1"].online


# --- the secret ---------------------------------------------------------------------


def test_token_never_appears_in_errors_or_logs(
    pve: FakePve, fakepve_cafile: str, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("", "proxmoxer", "proxmoxer.core", "proxmoxer.backends.https", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    pve.fail("POST", "/nodes/pve1/qemu/9000/clone", error="no_quorum")
    pin = fingerprint_of_pem(fakepve_cafile)
    good = ProxmoxClient("pve-a", runtime(pve.url, ca_file=fakepve_cafile))
    messages: list[str] = [repr(good)]
    run(good.observe())  # the token works: it was really sent
    attempts = [
        good.create_vm(vm_request("coop-web", 10070)),
        good.destroy_vm(9000, "pve1"),  # refused: not fedi-tui's
        ProxmoxClient("pve-a", runtime(pve.url, fingerprint="AA" + pin[2:])).observe(),
        ProxmoxClient("pve-a", runtime(pve.url, token_id="nobody@pve!x")).observe(),
    ]
    for attempt in attempts:
        with pytest.raises(ProxmoxError) as err:
            run(attempt)
        messages.append(str(err.value))
    assert len(messages) == 5
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # the logs were captured
    for text in [*messages, caplog.text]:
        assert TOKEN not in text
    assert all(TOKEN not in str(body) for _, _, body in pve.requests)


def test_token_with_a_newline_is_refused_without_showing_it(
    pve: FakePve, client: ProxmoxClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, TOKEN + "\nX-Evil: 1")
    with pytest.raises(ProxmoxError) as err:
        run(client.observe())
    assert "contains spaces or control characters (not shown)" in str(err.value)
    assert TOKEN not in str(err.value)
    assert pve.requests == []


def test_connection_dropped_by_the_network(pve: FakePve, client: ProxmoxClient) -> None:
    pve.flaky_network(drop_rate=1.0)  # every request: the connection is reset, no answer
    with pytest.raises(ProxmoxError) as err:
        run(client.observe())
    assert err.value.reason == "connect"
    assert "list the nodes: lost the connection to 127.0.0.1:" in str(err.value)
    assert "(tried 4 times in " in str(err.value)
    assert "check the network and run again" in str(err.value)


def test_reads_survive_dropped_connections(pve: FakePve, fakepve_cafile: str) -> None:
    pve.flaky_network(drop_rate=0.5)
    # fakepve seeds its network dice only when it starts; re-seed them so the drops repeat.
    pve._random.seed(2)
    said: list[str] = []
    spec = runtime(pve.url, ca_file=fakepve_cafile, nodes=("pve1",))  # one node: fixed order
    client = ProxmoxClient("pve-a", spec, on_progress=said.append, retry_delay=0.01)
    observed = run(client.observe())
    assert observed.nodes["pve1"].online
    retried = [s for s in said if "trying again" in s]
    assert retried and all("the connection was dropped" in s for s in retried)
