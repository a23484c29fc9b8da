"""Text from servers reaches the screen with its control characters made visible.

A server can put terminal escape sequences in what it says: `ESC]0;…BEL`
retitles the terminal, `ESC[2K` erases the line, `ESC[8m` hides what follows.
Each place where such text enters a message is driven here by a server that
sends them:

* an SSH server that sends DISCONNECT right after the version exchange (before
  any key exchange, so no host key is involved). No real server does this on
  demand, so it is a raw socket server in the test;
* an HTTPS server whose status line's reason phrase holds them (`plan --live`);
* a TLS certificate whose subject holds them (the connection probe);
* a real OpenSSH sshd running a command that prints them (output lines and the
  stderr quoted when it fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fakepve.certs import make_cert  # type: ignore[import-untyped]

from fedi_tui.adapters.probe import probe_ssh, probe_tls
from fedi_tui.adapters.ssh import SshMachine, Stream
from fedi_tui.cli import main
from fedi_tui.core.errors import FediError
from tests.fixtures.sshd import SshHost
from tests.paths import DEMO

pytestmark = pytest.mark.real

EVIL = "\x1b]0;pwned\x07\x1b[2Kgone\x1b[8mhidden\x9b31m"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2Kgone\\x1b[8mhidden\\x9b31m"


def _safe(text: str, shown: str = SHOWN) -> bool:
    """No control character but newline and tab, and the escapes shown instead."""
    return shown in text and not any(
        (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in text
    )


# --- an SSH server that hangs up with a message --------------------------------------


def _disconnect_packet(code: int, description: str) -> bytes:
    """SSH_MSG_DISCONNECT as an unencrypted binary packet (RFC 4253 §6, §11.1)."""
    text = description.encode("utf-8")
    payload = bytes([1]) + struct.pack(">I", code) + struct.pack(">I", len(text)) + text
    payload += struct.pack(">I", 0)  # language tag
    padding = 8 - (len(payload) + 5) % 8
    padding += 8 if padding < 4 else 0
    length = 1 + len(payload) + padding
    return struct.pack(">IB", length, padding) + payload + bytes(padding)


@contextlib.contextmanager
def _hanging_up_ssh_server(code: int, description: str) -> Iterator[int]:
    """A server on 127.0.0.1 that says its version, reads the client's, then DISCONNECTs."""
    server = socket.create_server(("127.0.0.1", 0))
    port: int = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                conn.sendall(b"SSH-2.0-Evil_1.0\r\n")
                seen = b""
                with contextlib.suppress(OSError):
                    while b"\n" not in seen:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        seen += chunk
                    conn.sendall(_disconnect_packet(code, description))
                    conn.recv(4096)  # until the client closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        server.close()


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(path))
    return path


# 1: host not allowed to connect, 2: protocol error, 12: too many connections
@pytest.mark.parametrize("code", [1, 2, 12])
def test_an_ssh_disconnect_message_is_shown_with_its_escapes_visible(
    code: int, client_key: Path
) -> None:
    pinned = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()

    async def log_in(port: int) -> None:
        async with SshMachine.connect(
            "127.0.0.1", port, "root", client_key, host_key=pinned, timeout=10
        ):
            pass

    with _hanging_up_ssh_server(code, f"go away {EVIL}") as port:
        with pytest.raises(FediError) as caught:
            asyncio.run(log_in(port))
        probed = asyncio.run(probe_ssh("127.0.0.1", port, timeout=10))
    assert "go away" in str(caught.value) and _safe(str(caught.value))
    assert probed.error is not None and "go away" in probed.error and _safe(probed.error)


# --- an HTTPS server with a strange reason phrase --------------------------------------


@contextlib.contextmanager
def _https_server(
    tmp_path: Path, status: int, reason: str, body: bytes
) -> Iterator[tuple[int, str]]:
    cert, key, _der = make_cert(tmp_path, name="evil", hosts=["127.0.0.1"])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(status, reason)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], str(cert)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _live_state(tmp_path: Path, port: int, cafile: str) -> Path:
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace('api = "https://127.0.0.1:8006"', f'api = "https://127.0.0.1:{port}"')
    text = text.replace('ca_file = "pve-ca.pem"', f'ca_file = "{cafile}"', 1)
    path = tmp_path / "fedi.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b""), (401, b""), (403, b""), (500, b'{"data": null, "errors": {"x": "\\u001b[2K"}}')],
)
def test_an_http_reason_phrase_is_shown_with_its_escapes_visible(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: bytes,
) -> None:
    monkeypatch.setenv("PVE_TOKEN", "0b5e7c1d-93af-4c2e-8d71-5f0a9e3b6c42")
    with _https_server(tmp_path, status, f"Nope {EVIL}", body) as (port, cafile):
        state = _live_state(tmp_path, port, cafile)
        assert main(["-s", str(state), "plan", "--live", "--no-diff"]) == 1
    err = capsys.readouterr().err
    assert "runtime pve-a" in err and _safe(err), err


# --- a certificate subject --------------------------------------------------------------


def test_a_certificate_subject_is_shown_with_its_escapes_visible(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"pve1 {EVIL}")])
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
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = asyncio.run(probe_tls("127.0.0.1", port, timeout=10))
    finally:
        thread.join(5)
        server.close()
    assert result.error is None and result.tls_subject is not None
    assert _safe(result.tls_subject, SHOWN.replace(";", "\\;"))  # RFC 4514 escapes ';'


# --- a real machine's output ------------------------------------------------------------


def test_command_output_and_quoted_stderr_have_their_escapes_visible(
    sshd_fast_host: SshHost,
) -> None:
    lines: list[tuple[Stream, str]] = []
    printf = EVIL.replace("\x1b", "\\033").replace("\x07", "\\007").replace("\x9b", "\\302\\233")
    script = (
        f"printf 'out {printf}\\n'; printf 'tab\\there\\n'; printf 'err {printf}\\n' >&2; exit 3"
    )

    async def go() -> None:
        async with SshMachine.connect(
            sshd_fast_host.address,
            sshd_fast_host.port,
            sshd_fast_host.user,
            sshd_fast_host.client_key,
            known_hosts=sshd_fast_host.known_hosts,
            timeout=10,
        ) as m:
            await m.run(["sh", "-c", script], on_line=lambda s, t: lines.append((s, t)))

    with pytest.raises(FediError) as caught:
        asyncio.run(go())
    assert ("stdout", f"out {SHOWN}") in lines
    assert ("stdout", "tab\there") in lines  # a tab is not an escape sequence
    assert ("stderr", f"err {SHOWN}") in lines
    assert "exited with status 3" in str(caught.value) and _safe(str(caught.value))
