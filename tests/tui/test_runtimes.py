"""Runtimes & storage: test a connection against real servers and pin what it showed."""

from __future__ import annotations

import hashlib
import shutil
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from textual.widgets import Input, Static

from fedi_tui.core.state.file import load_state
from fedi_tui.tui.screens.entry import EntryModal
from fedi_tui.tui.screens.modals import ChoiceModal
from fedi_tui.tui.screens.runtimes import RuntimesScreen
from tests.fixtures.sshd import SshHost
from tests.paths import DEMO, DEMO_DEPLOY_KEY
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


@pytest.mark.real
async def test_test_connection_to_proxmox_and_pin_the_fingerprint(
    tmp_path: Path, fakepve_url: str, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url)
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
        assert "press p to pin it (replaces ca_file)" in shown
        await pilot.press("p")
        await settle(pilot)
        assert "pinned ✓" in probe_text(screen)
    runtime = load_state(path).data["runtimes"]["pve-a"]
    assert runtime["fingerprint"] == expected
    assert "ca_file" not in runtime


@pytest.mark.real
async def test_test_connection_to_a_nixos_host_and_pin_its_host_key(
    tmp_path: Path, fakepve_url: str, sshd_host: SshHost, make_app: AppFactory
) -> None:
    path = state_with(tmp_path, fakepve_url, sshd_host)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "3", RuntimesScreen)
        await pilot.press("j")  # bare-1
        await settle(pilot)
        assert screen.current == ("runtimes", "bare-1")
        await pilot.press("t")
        await settle(pilot)
        assert sshd_host.host_public_key in probe_text(screen)
        await pilot.press("p")
        await settle(pilot)
    assert load_state(path).data["runtimes"]["bare-1"]["host_key"] == sshd_host.host_public_key


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
