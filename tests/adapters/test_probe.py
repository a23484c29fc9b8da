"""Connection probes against real servers: fakepve's HTTPS, OpenSSH sshd and silent sockets.

Loopback only. Name resolution is never exercised for real: the DNS test replaces
``socket.getaddrinfo`` first.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import ssl
import subprocess
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from pydantic import TypeAdapter

from fedi_tui.adapters.probe import (
    ProbeResult,
    fingerprint_of_der,
    probe_ssh,
    probe_tls,
    probe_url,
)
from fedi_tui.core.state.spec import Fingerprint
from tests.fixtures.sshd import SshHost, free_port

FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")  # as fedi.toml's schema says
SCHEMA_FINGERPRINT: TypeAdapter[str] = TypeAdapter(Fingerprint)
HOST_KEY = re.compile(r"^(ssh|ecdsa)-[a-z0-9-]+ [A-Za-z0-9+/=]+$")  # core/spec.py host_key


def _run(coro: Coroutine[Any, Any, ProbeResult]) -> ProbeResult:
    result = asyncio.run(coro)
    assert isinstance(result, ProbeResult)
    return result


def _assert_one_line(result: ProbeResult) -> str:
    assert result.error is not None
    assert "\n" not in result.error
    assert result.target in result.error
    return result.error


def _closed_port() -> int:
    """A port on 127.0.0.1 that was just bound and closed, so nothing listens on it."""
    return free_port("127.0.0.1")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listening socket that accepts TCP connections (kernel backlog) but never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _pve_port(url: str) -> int:
    match = re.fullmatch(r"https://127\.0\.0\.1:(\d+)/?", url)
    assert match, url
    return int(match.group(1))


# --- pure --------------------------------------------------------------------


def test_fingerprint_of_der_format_and_value() -> None:
    der = b"not really a certificate"
    got = fingerprint_of_der(der)
    assert FINGERPRINT.match(got)
    assert got.replace(":", "") == hashlib.sha256(der).hexdigest().upper()


# --- TLS ---------------------------------------------------------------------


@pytest.mark.real
def test_probe_tls_reads_fakepve_certificate(fakepve_url: str, fakepve_cafile: str) -> None:
    port = _pve_port(fakepve_url)
    result = _run(probe_tls("127.0.0.1", port, timeout=5))

    der = ssl.PEM_cert_to_DER_cert(Path(fakepve_cafile).read_text())
    expected = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert result.error is None
    assert result.reachable
    assert result.target == f"127.0.0.1:{port}"
    assert result.latency_ms is not None and 0 <= result.latency_ms < 5000
    assert result.tls_fingerprint == expected
    assert FINGERPRINT.match(result.tls_fingerprint)
    assert SCHEMA_FINGERPRINT.validate_python(result.tls_fingerprint) == expected
    assert result.tls_subject is not None and result.tls_subject.startswith("CN=")
    assert result.ssh_host_key is None and result.ssh_fingerprint is None


@pytest.mark.real
def test_probe_tls_sends_no_request(fakepve: Any, fakepve_url: str) -> None:
    """Trust on first use: only a handshake, never an HTTP request (let alone credentials)."""
    before = len(fakepve.requests)
    result = _run(probe_tls("127.0.0.1", _pve_port(fakepve_url), timeout=5))
    assert result.error is None
    assert len(fakepve.requests) == before


@pytest.mark.real
def test_probe_url_https_and_http(fakepve_url: str) -> None:
    port = _pve_port(fakepve_url)
    tls = _run(probe_url(fakepve_url + "/api2/json", timeout=5))
    assert tls.error is None and tls.tls_fingerprint is not None
    assert tls.target == f"127.0.0.1:{port}"

    plain = _run(probe_url(f"http://127.0.0.1:{port}/", timeout=5))
    assert plain.error is None and plain.reachable
    assert plain.tls_fingerprint is None

    refused = _run(probe_url(f"https://127.0.0.1:{_closed_port()}/", timeout=5))
    assert not refused.reachable and "refused" in (refused.error or "")


def test_probe_url_rejects_what_it_cannot_probe() -> None:
    for url, words in [
        ("ftp://127.0.0.1/", "not supported"),
        ("127.0.0.1:8006", "https://"),
        ("https://127.0.0.1:99999/", "port"),
        ("https:///path", "no host"),
    ]:
        result = _run(probe_url(url, timeout=1))
        assert not result.reachable
        assert result.error is not None and words in result.error, (url, result.error)
        assert "\n" not in result.error


def test_refused_port_is_reported_with_target() -> None:
    port = _closed_port()
    for probe in (probe_tls, probe_ssh):
        result = _run(probe("127.0.0.1", port, timeout=2))
        assert not result.reachable
        assert result.latency_ms is None
        error = _assert_one_line(result)
        assert "refused" in error
        assert f"127.0.0.1:{port}" in error


def test_refused_names_the_usual_service() -> None:
    # 8006 is pveproxy's port; an address with nothing on it refuses at once.
    result = _run(probe_tls("127.0.0.254", 8006, timeout=2))
    assert result.error is not None and "pveproxy" in result.error
    assert result.target == "127.0.0.254:8006"


def test_tls_handshake_timeout_on_silent_port(silent_port: int) -> None:
    result = _run(probe_tls("127.0.0.1", silent_port, timeout=0.3))
    assert result.reachable  # TCP was accepted by the kernel
    error = _assert_one_line(result)
    assert "TLS handshake" in error and "0.3 s" in error
    assert result.tls_fingerprint is None


def test_ssh_key_exchange_timeout_on_silent_port(silent_port: int) -> None:
    result = _run(probe_ssh("127.0.0.1", silent_port, timeout=0.3))
    assert result.reachable
    error = _assert_one_line(result)
    assert "SSH key exchange" in error and "0.3 s" in error
    assert result.ssh_host_key is None


def test_connect_timeout_when_backlog_is_full() -> None:
    """A full accept queue makes Linux drop SYNs: the TCP connect itself times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # fill the accept queue; nobody ever accepts
                filler = socket.socket()
                filler.settimeout(0.2)
                try:
                    filler.connect(("127.0.0.1", port))
                except OSError:
                    filler.close()
                    break
                fillers.append(filler)
            result = _run(probe_tls("127.0.0.1", port, timeout=0.3))
        finally:
            for filler in fillers:
                filler.close()
    assert not result.reachable
    error = _assert_one_line(result)
    assert "timed out" in error and "0.3 s" in error


def test_dns_failure_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []

    def no_dns(host: object, *args: object, **kwargs: object) -> object:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    result = _run(probe_tls("pve1.example.invalid", 8006, timeout=2))
    assert asked == ["pve1.example.invalid"]
    assert not result.reachable
    error = _assert_one_line(result)
    assert "resolve" in error and "pve1.example.invalid" in error


def test_cancellation_propagates(silent_port: int) -> None:
    async def main() -> None:
        task = asyncio.create_task(probe_tls("127.0.0.1", silent_port, timeout=30))
        await asyncio.sleep(0.1)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


# --- SSH ---------------------------------------------------------------------


@pytest.mark.real
def test_probe_ssh_reads_host_key(sshd_host: SshHost) -> None:
    result = _run(probe_ssh(sshd_host.address, sshd_host.port, timeout=5))
    assert result.error is None, result.error
    assert result.reachable and result.latency_ms is not None
    assert result.target == f"{sshd_host.address}:{sshd_host.port}"
    assert result.ssh_host_key == sshd_host.host_public_key
    assert result.ssh_host_key.split() == sshd_host.host_public_key_file.read_text().split()[:2]
    assert HOST_KEY.match(result.ssh_host_key)
    keygen = subprocess.run(
        ["ssh-keygen", "-lf", str(sshd_host.host_public_key_file), "-E", "sha256"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.ssh_fingerprint == keygen.stdout.split()[1]
    assert result.ssh_fingerprint.startswith("SHA256:")
    assert result.tls_fingerprint is None


@pytest.mark.real
def test_tls_probe_of_ssh_port_is_a_clear_error(sshd_host: SshHost) -> None:
    result = _run(probe_tls(sshd_host.address, sshd_host.port, timeout=3))
    assert result.reachable
    error = _assert_one_line(result)
    assert "TLS" in error
    assert result.tls_fingerprint is None


@pytest.mark.real
def test_ssh_probe_of_https_port_is_a_clear_error(fakepve_url: str) -> None:
    result = _run(probe_ssh("127.0.0.1", _pve_port(fakepve_url), timeout=3))
    assert result.reachable
    error = _assert_one_line(result)
    assert "SSH" in error
    assert result.ssh_host_key is None


@pytest.mark.real
def test_probe_url_ssh_scheme(sshd_host: SshHost) -> None:
    result = _run(probe_url(f"ssh://{sshd_host.address}:{sshd_host.port}", timeout=5))
    assert result.ssh_host_key == sshd_host.host_public_key


@pytest.mark.real
def test_pinning_the_probed_key_lets_asyncssh_in(sshd_host: SshHost, tmp_path: Path) -> None:
    """The probe's host key, written as known_hosts, is what strict verification accepts."""
    result = _run(probe_ssh(sshd_host.address, sshd_host.port, timeout=5))
    assert result.ssh_host_key is not None
    pinned = tmp_path / "known_hosts"
    pinned.write_text(f"[{sshd_host.address}]:{sshd_host.port} {result.ssh_host_key}\n")

    async def login(known_hosts: Path) -> str:
        async with asyncssh.connect(
            sshd_host.address,
            port=sshd_host.port,
            username=sshd_host.user,
            client_keys=[str(sshd_host.client_key)],
            known_hosts=str(known_hosts),
            config=None,
            agent_path=None,
        ) as conn:
            return str(conn.get_extra_info("username"))

    assert asyncio.run(login(pinned)) == sshd_host.user

    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[{sshd_host.address}]:{sshd_host.port} {other.strip()}\n")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        asyncio.run(login(wrong))
