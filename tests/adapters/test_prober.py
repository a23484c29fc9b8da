"""The network Prober: a connection test judges what the server presents with the trust the
entry configures (CA file, pinned fingerprint or host key, system CAs, known_hosts).

Real servers on loopback only: fakepve's HTTPS and OpenSSH sshd.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from fakepve.certs import make_cert

from fedi_tui.adapters.prober import NetworkProber
from fedi_tui.core.probes import ProbeReport, ProbeTarget
from tests.adapters.test_probe import _closed_port
from tests.fixtures.sshd import SshHost

pytestmark = pytest.mark.real


def check(target: ProbeTarget, known_hosts: Path | None = None) -> ProbeReport:
    return asyncio.run(NetworkProber(timeout=5.0, known_hosts=known_hosts).check(target))


def tls(url: str, *, ca: Path | None = None, fingerprint: str | None = None) -> ProbeTarget:
    name = None if ca is None else ca.name
    return ProbeTarget("runtimes.pve-a", url, ca_file=name, ca_path=ca, fingerprint=fingerprint)


def ssh(host: SshHost, host_key: str | None = None) -> ProbeTarget:
    return ProbeTarget(
        "runtimes.bare-1", None, host=host.address, port=host.port, host_key=host_key
    )


def test_a_ca_file_that_signed_the_certificate_is_trusted(
    fakepve_url: str, fakepve_cafile: str, tmp_path: Path
) -> None:
    ca = tmp_path / "pve-ca.pem"
    shutil.copyfile(fakepve_cafile, ca)
    report = check(tls(fakepve_url, ca=ca))
    assert report.result.error is None and report.result.tls_fingerprint
    assert report.trust is not None
    assert (report.trust.ok, report.trust.anchor) == (True, "the CA in pve-ca.pem")


def test_a_missing_ca_file_is_not_trusted_and_named(fakepve_url: str, tmp_path: Path) -> None:
    report = check(tls(fakepve_url, ca=tmp_path / "pve-ca.pem"))
    assert report.result.error is None  # reachable …
    assert report.trust is not None and report.trust.ok is False  # … but not trusted
    assert f"{tmp_path / 'pve-ca.pem'} does not exist" in report.trust.detail


def test_a_ca_that_did_not_sign_the_certificate_is_not_trusted(
    fakepve_url: str, tmp_path: Path
) -> None:
    other_ca, _, _ = make_cert(str(tmp_path), name="another-ca")
    report = check(tls(fakepve_url, ca=Path(other_ca)))
    assert report.trust is not None and report.trust.ok is False
    assert "does not verify against the CA in another-ca.crt" in report.trust.detail


def test_a_ca_file_that_is_not_a_certificate_is_not_trusted(
    fakepve_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "pve-ca.pem"
    junk.write_text("not a certificate\n")
    report = check(tls(fakepve_url, ca=junk))
    assert report.trust is not None and report.trust.ok is False
    assert "no readable PEM CA certificate" in report.trust.detail


def test_without_ca_file_or_pin_the_system_cas_judge(fakepve_url: str) -> None:
    report = check(tls(fakepve_url))
    assert report.trust is not None
    assert (report.trust.ok, report.trust.anchor) == (False, "the system's CAs")
    assert "self-signed certificate" in report.trust.detail


def test_a_pinned_fingerprint_is_compared(fakepve_url: str) -> None:
    seen = check(tls(fakepve_url)).result.tls_fingerprint
    assert seen is not None
    same = check(tls(fakepve_url, fingerprint=seen))
    assert same.trust is not None and same.trust.ok is True
    other = check(tls(fakepve_url, fingerprint=":".join(["AB"] * 32)))
    assert other.trust is not None and other.trust.ok is False
    assert "DIFFERS" in other.trust.detail and "intercepting" in other.trust.detail


def test_an_unreachable_endpoint_has_no_verdict() -> None:
    report = check(tls(f"https://127.0.0.1:{_closed_port()}"))
    assert report.result.error is not None and "refused" in report.result.error
    assert report.trust is None


def test_ssh_host_key_pinned_or_from_known_hosts(sshd_host: SshHost, tmp_path: Path) -> None:
    pinned = check(ssh(sshd_host, sshd_host.host_public_key))
    assert pinned.trust is not None and pinned.trust.ok is True
    changed = check(ssh(sshd_host, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB090aQKWbebDKqfGSVLS"))
    assert changed.trust is not None and changed.trust.ok is False
    assert "DIFFERS" in changed.trust.detail

    missing = check(ssh(sshd_host), known_hosts=tmp_path / "known_hosts")
    assert missing.trust is not None and missing.trust.ok is False
    assert "does not exist" in missing.trust.detail

    listed = check(ssh(sshd_host), known_hosts=sshd_host.known_hosts)
    assert listed.trust is not None and listed.trust.ok is True
    assert listed.trust.anchor == f"known_hosts ({sshd_host.known_hosts})"

    other = tmp_path / "other_known_hosts"
    other.write_text(f"[{sshd_host.address}]:{sshd_host.port} {_another_key()}\n")
    differs = check(ssh(sshd_host), known_hosts=other)
    assert differs.trust is not None and differs.trust.ok is False
    assert "DIFFERS" in differs.trust.detail

    other.write_text("[192.0.2.1]:22 " + _another_key() + "\n")
    unknown = check(ssh(sshd_host), known_hosts=other)
    assert unknown.trust is not None and unknown.trust.ok is False
    assert "has no key for this host" in unknown.trust.detail

    other.write_text(
        f"@revoked [{sshd_host.address}]:{sshd_host.port} {sshd_host.host_public_key}\n"
    )
    revoked = check(ssh(sshd_host), known_hosts=other)
    assert revoked.trust is not None and revoked.trust.ok is False
    assert "@revoked" in revoked.trust.detail


def _another_key() -> str:
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    return " ".join(key.export_public_key("openssh").decode().split()[:2])
