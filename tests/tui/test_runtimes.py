"""Runtimes & storage: test a connection against real servers and pin what it showed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fakepve.certs import make_cert
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from fedi_tui.adapters.prober import NetworkProber
from fedi_tui.core.probes import ProbeReport, ProbeTarget
from fedi_tui.core.state.file import load_state
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.tui import messages
from fedi_tui.tui.screens.entry import EntryModal
from fedi_tui.tui.screens.modals import ChoiceModal, ConfirmModal
from fedi_tui.tui.screens.runtimes import RuntimesScreen
from tests.fixtures.sshd import SshHost
from tests.paths import DEMO, DEMO_DEPLOY_KEY
from tests.textdiff import changed_lines
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, settle, text_of, type_into


def state_with(tmp_path: Path, pve_url: str, ssh: SshHost | None = None) -> Path:
    text = DEMO.read_text().replace('api = "https://127.0.0.1:8006"', f'api = "{pve_url}"')
    if ssh is not None:
        text = text.replace(
            'host = "127.0.0.2"\nport = 22', f'host = "{ssh.address}"\nport = {ssh.port}'
        )
    path = tmp_path / "fedi.toml"
    path.write_text(text)
    shutil.copyfile(DEMO_DEPLOY_KEY, tmp_path / DEMO_DEPLOY_KEY.name)
    return path


def served_fingerprint(url: str) -> str:
    """What the server presents, read independently of fedi-tui."""
    parts = urlsplit(url)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection((parts.hostname, parts.port)) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def probe_text(screen: RuntimesScreen) -> str:
    return text_of(screen.query_one("#probe-result", Static))


@contextlib.contextmanager
def tls_server(cert: str, key: str) -> Iterator[str]:
    """A TLS server on 127.0.0.1 that completes handshakes and closes; yields its URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


async def probe_then_pin(pilot: Pilot[object], screen: RuntimesScreen) -> ConfirmModal:
    """t, then p: the question pinning asks first."""
    await pilot.press("t")
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, ConfirmModal), f"p did not ask: {modal!r}"
    return modal


@pytest.mark.real
async def test_test_connection_to_proxmox_and_pin_the_fingerprint(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    """The demo's ca_file does not exist: reachable but not trusted; p asks, then pins and
    keeps the ca_file line (and its comment) as a comment."""
    path = state_with(tmp_path, fakepve_url)
    before = path.read_text()
    expected = served_fingerprint(fakepve_url)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        assert screen.current == ("runtimes", "pve-a")
        assert "Not tested yet" in probe_text(screen)
        await pilot.press("t")
        await settle(pilot)
        shown = probe_text(screen)
        assert "✓ reachable" in shown and expected in shown
        assert "✗ NOT trusted by the CA in pve-ca.pem" in shown
        assert f"{tmp_path / 'pve-ca.pem'} does not exist" in shown
        assert "press p to pin it (replaces ca_file pve-ca.pem)" in shown
        await pilot.press("p")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert expected in modal.body and "instead of the CA in pve-ca.pem" in modal.body
        assert path.read_text() == before  # nothing written before the answer
        await pilot.press("y")
        await settle(pilot)
        assert "✓ trusted: the certificate matches the fingerprint pinned" in probe_text(screen)
    runtime = load_state(path).data["runtimes"]["pve-a"]
    assert runtime["fingerprint"] == expected
    assert "ca_file" not in runtime
    assert changed_lines(before, path.read_text()) == [
        '-ca_file = "pve-ca.pem"               # relative to this file',
        '+# ca_file = "pve-ca.pem"               # relative to this file',
        f'+fingerprint = "{expected}"',
    ]


@pytest.mark.real
async def test_pinning_can_be_declined(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
    before = path.read_text()
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await probe_then_pin(pilot, screen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
    assert path.read_text() == before


@pytest.mark.real
async def test_a_ca_file_that_signed_the_certificate_is_shown_trusted(
    tmp_path: Path, fakepve_url: str, fakepve_cafile: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
    shutil.copyfile(fakepve_cafile, tmp_path / "pve-ca.pem")  # relative to the state file
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("t")
        await settle(pilot)
        shown = probe_text(screen)
        assert "✓ trusted: the certificate verifies against the CA in pve-ca.pem" in shown


@pytest.mark.real
async def test_a_ca_file_that_did_not_sign_it_is_shown_not_trusted(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
    other, _, _ = make_cert(str(tmp_path), name="other")
    shutil.copyfile(other, tmp_path / "pve-ca.pem")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("t")
        await settle(pilot)
        shown = probe_text(screen)
        assert "✗ NOT trusted by the CA in pve-ca.pem" in shown
        assert "does not verify against the CA in pve-ca.pem" in shown


@pytest.mark.real
async def test_pinning_a_changed_certificate_shows_old_and_new_and_warns(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    old = ":".join(["AB"] * 32)
    path = state_with(tmp_path, fakepve_url)
    path.write_text(
        path.read_text().replace(
            'ca_file = "pve-ca.pem"               # relative to this file',
            f'fingerprint = "{old}"  # pinned 2026-03',
        )
    )
    before = path.read_text()
    new = served_fingerprint(fakepve_url)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        modal = await probe_then_pin(pilot, screen)
        assert "✗ NOT trusted by the pinned fingerprint" in probe_text(screen)
        assert "DIFFERS" in probe_text(screen)
        assert "CHANGED" in modal.title_text
        assert old in modal.body and new in modal.body
        assert "attack" in modal.body
        assert isinstance(app.focused, Button) and app.focused.id == "no"  # Enter keeps the old
        await pilot.press("n")
        await settle(pilot)
        assert path.read_text() == before
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "✓ trusted" in probe_text(screen)
    assert changed_lines(before, path.read_text()) == [
        f'-fingerprint = "{old}"  # pinned 2026-03',
        f'+fingerprint = "{new}"  # pinned 2026-03',
    ]


@pytest.mark.real
async def test_pinning_what_is_pinned_already_writes_nothing(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
    path.write_text(
        path.read_text().replace(
            'ca_file = "pve-ca.pem"', f'fingerprint = "{served_fingerprint(fakepve_url)}"'
        )
    )
    before = path.read_text()
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("t")
        await settle(pilot)
        assert "✓ trusted: the certificate matches the fingerprint pinned" in probe_text(screen)
        await pilot.press("p")
        await settle(pilot)
        assert app.screen is screen  # nothing to ask
    assert path.read_text() == before


@pytest.mark.real
async def test_a_probe_result_belongs_to_the_endpoint_it_probed(
    tmp_path: Path, fakepve_url: str, fakepve_cafile: str, make_app: AppFactory
) -> None:
    """Moving the API to another port discards the test: p cannot pin the old port's
    certificate onto the new entry."""
    path = state_with(tmp_path, fakepve_url)
    other, key, _ = make_cert(str(tmp_path), name="other-server")
    with tls_server(other, key) as other_url:
        app = make_app(path)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_area(pilot, "3", RuntimesScreen)
            await pilot.press("t")
            await settle(pilot)
            assert served_fingerprint(fakepve_url) in probe_text(screen)
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, EntryModal)
            await type_into(pilot, "#f-api", other_url)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen
            assert "Not tested yet" in probe_text(screen)
            await pilot.press("p")
            await settle(pilot)
            assert app.screen is screen  # nothing to pin: no question
            await pilot.press("t")
            await settle(pilot)
            assert served_fingerprint(other_url) in probe_text(screen)
    assert "fingerprint" not in load_state(path).data["runtimes"]["pve-a"]


@pytest.mark.real
async def test_a_test_that_finishes_after_the_entry_changed_is_dropped(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
    release = asyncio.Event()

    class HeldProber(NetworkProber):
        async def check(self, target: ProbeTarget) -> ProbeReport:
            await release.wait()
            return await super().check(target)

    app = make_app(path, prober=HeldProber())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("t")
        await pilot.pause()
        assert screen.query_one("#probe-panel").loading
        edits = [Edit(("runtimes", "pve-a", "api"), "https://127.0.0.1:1")]
        app.post_message(messages.SaveEdits(edits, "the api"))
        await pilot.pause()
        while app.state.spec.runtimes["pve-a"].api != "https://127.0.0.1:1":  # type: ignore[union-attr]
            await pilot.pause()
        release.set()
        await settle(pilot)
        assert "Not tested yet" in probe_text(screen)
        assert not app.probes


@pytest.mark.real
async def test_test_connection_to_a_nixos_host_and_pin_its_host_key(
    tmp_path: Path,
    fakepve_url: str,
    sshd_host: SshHost,
    known_hosts: Path,
    make_app: AppFactory,
) -> None:
    path = state_with(tmp_path, fakepve_url, sshd_host)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("j")  # bare-1
        await settle(pilot)
        assert screen.current == ("runtimes", "bare-1")
        modal = await probe_then_pin(pilot, screen)
        shown = probe_text(screen)
        assert sshd_host.host_public_key in shown
        assert f"✗ NOT trusted by known_hosts ({known_hosts})" in shown
        assert sshd_host.host_public_key in modal.body
        await pilot.press("y")
        await settle(pilot)
        assert "✓ trusted: the host key matches the one pinned" in probe_text(screen)
    assert load_state(path).data["runtimes"]["bare-1"]["host_key"] == sshd_host.host_public_key


@pytest.mark.real
async def test_a_host_key_listed_in_known_hosts_is_shown_trusted(
    tmp_path: Path,
    fakepve_url: str,
    sshd_host: SshHost,
    known_hosts: Path,
    make_app: AppFactory,
) -> None:
    known_hosts.write_text(sshd_host.known_hosts_line + "\n")
    app = make_app(state_with(tmp_path, fakepve_url, sshd_host))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("j", "t")
        await settle(pilot)
        assert "✓ trusted: the host key is listed for this host in" in probe_text(screen)


async def test_unreachable_endpoint_says_what_failed(tmp_path: Path, make_app: AppFactory) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = state_with(tmp_path, f"https://127.0.0.1:{port}")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RuntimesScreen)
        shown = probe_text(screen)
        assert shown.startswith(f"✗ 127.0.0.1:{port}") and "refused" in shown
        await pilot.press("p")  # nothing to pin
        await settle(pilot)
    assert "fingerprint" not in load_state(path).data["runtimes"]["pve-a"]


async def test_add_a_nixos_host_through_the_form(demo_copy: Path, make_app: AppFactory) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("down", "enter")  # NixOS host
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EntryModal) and modal.kind == "nixos"
        await type_into(pilot, "#entry-name", "bare-2")
        await type_into(pilot, "#f-host", "127.0.0.3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EntryModal)  # ssh.key is required: blocked
        assert "required" in text_of(modal.query_one("#f-ssh-key-box .field-error", Static))
        await type_into(pilot, "#f-ssh-key", "~/.ssh/fedi_ed25519")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RuntimesScreen)
        assert app.screen.query_one("#entries Input", Input).value == ""
    added = load_state(demo_copy).data["runtimes"]["bare-2"]
    assert added == {"kind": "nixos", "host": "127.0.0.3", "ssh": {"key": "~/.ssh/fedi_ed25519"}}


def hostile_cert(directory: Path) -> tuple[str, str]:
    """A self-signed certificate whose subject holds terminal escape sequences."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "\x1b]0;pwned\x07\x1b[2Kpve")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "hostile.crt", directory / "hostile.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.mark.real
async def test_text_from_the_server_is_shown_with_control_characters_visible(
    tmp_path: Path, make_app: AppFactory
) -> None:
    with tls_server(*hostile_cert(tmp_path)) as url:
        app = make_app(state_with(tmp_path, url))
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_area(pilot, "3", RuntimesScreen)
            await pilot.press("t")
            await settle(pilot)
            shown = probe_text(screen)
            assert "CN=\\x1b]0\\;pwned\\x07\\x1b[2Kpve" in shown  # RFC 4514 escapes the ;
            assert "\x1b" not in shown and "\x07" not in shown
            await pilot.press("p")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            assert "\x1b" not in modal.body and "pwned\\x07\\x1b[2Kpve" in modal.body
