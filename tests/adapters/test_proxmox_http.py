"""What the Proxmox client does with answers no Proxmox VE would give, and with no answer at all.

The servers here are raw HTTPS servers on 127.0.0.1 (tests/fixtures/rawhttps.py), their
certificate pinned or used as the CA, so TLS verification stays on.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from pathlib import Path

import pytest
from fakepve import FakePve  # type: ignore[import-untyped]

from fedi_tui.adapters.probe import fingerprint_of_der
from fedi_tui.adapters.proxmox import ProxmoxClient, ProxmoxError
from fedi_tui.core.deploy.ports import VmRequest
from tests.adapters.proxmox_fixtures import ENV, TOKEN, Lines, client, fedi_vm, pve, run, runtime
from tests.fixtures.rawhttps import RawServer

pytestmark = pytest.mark.real

__all__ = ["client", "pve"]  # fixtures


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)


def answer(
    status: str, body: bytes, content_type: str = "application/json", extra: str = ""
) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}"
    return head.encode("latin-1") + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def observe(server: RawServer, **kw: float) -> ProxmoxError:
    spec = runtime(server.url, fingerprint=fingerprint_of_der(server.der), nodes=("pve1",))
    with pytest.raises(ProxmoxError) as err:
        run(ProxmoxClient("pve-a", spec, **kw).observe())
    return err.value


def test_a_200_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    page = b"<HTML><BODY BGCOLOR='#ffffff'>\n<pre>\ns_server -www\n</pre></BODY></HTML>\n"
    with RawServer(tmp_path, answer("200 ok", page, "text/html")) as server:
        err = observe(server)
    text = str(err)
    assert err.reason == "api"
    assert text.startswith(f"runtime pve-a ({server.url}): list the nodes: ")
    assert "expected a JSON answer from the Proxmox VE API, got 200 text/html" in text
    assert "<HTML><BODY" in text
    assert "is runtimes.pve-a.api the address of a Proxmox VE node" in text
    assert TOKEN not in text


def test_json_without_data_or_of_the_wrong_shape_is_a_clear_error(tmp_path: Path) -> None:
    for body, said in (
        (
            {"hello": 1},
            'expected a JSON answer from the Proxmox VE API, got a JSON object without "data"',
        ),
        ({"data": "hello"}, "expected a list of objects from the Proxmox VE API, got a string"),
        (
            {"data": [1, 2]},
            "expected a list of objects from the Proxmox VE API, got a list holding a number",
        ),
    ):
        with RawServer(tmp_path, answer("200 OK", json.dumps(body).encode())) as server:
            err = observe(server)
        text = str(err)
        assert err.reason == "api", text
        assert f"list the nodes: {said}" in text
        assert "is runtimes.pve-a.api the address of a Proxmox VE node" in text


def test_a_redirect_is_never_followed(tmp_path: Path) -> None:
    with RawServer(tmp_path, answer("200 OK", b'{"data": []}'), tls=False) as plain:
        moved = f"{plain.url}/api2/json/nodes"
        reply = answer("302 Found", b"", "text/plain", f"Location: {moved}\r\n")
        with RawServer(tmp_path, reply) as server:
            err = observe(server)
        assert plain.requests == []  # the plain-HTTP server never heard from us
    text = str(err)
    assert err.reason == "api"
    assert f"the API answered 302 Found, a redirect to {moved}" in text
    assert "fedi-tui never follows redirects from the Proxmox API" in text


def test_server_text_is_shown_with_control_characters_made_visible(tmp_path: Path) -> None:
    evil = "\x1b]0;owned\x07\x1b[2K\x1b[8mhidden"
    body = json.dumps({"data": None, "message": evil}).encode()
    with RawServer(tmp_path, answer(f"500 {evil}", body)) as server:
        err = observe(server)
    text = str(err)
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07\\x1b[2K\\x1b[8mhidden" in text


def test_task_error_text_is_made_visible(pve: FakePve, client: ProxmoxClient) -> None:
    fedi_vm(pve, 10010, config={"tags": "fedi-tui;fedi-tui.coop-web"})
    pve.vm(10010).start_error = "boom\x1b[2K\x1b]0;owned\x07"
    request = VmRequest("coop-web", "pve1", 10010, 2, 2, 20, "127.0.10.20")
    lines = Lines()
    with pytest.raises(ProxmoxError) as err:
        run(client.reconfigure_vm(request, lines))
    assert err.value.reason == "task"
    assert "\x1b" not in str(err.value)
    assert "boom\\x1b[2K\\x1b]0;owned\\x07" in str(err.value)
    # The task log line the sink received too.
    assert lines.has("qmstart: TASK ERROR: boom\\x1b[2K\\x1b]0;owned\\x07")
    assert not [line for line in lines.lines if "\x1b" in line or "\x07" in line]


def test_a_silent_tls_handshake_times_out_and_the_error_says_how_long(tmp_path: Path) -> None:
    with socket.socket() as sock:  # accepts TCP connections (backlog), never speaks TLS
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        port = sock.getsockname()[1]
        spec = runtime(f"https://127.0.0.1:{port}", fingerprint="AA:" * 31 + "AA", nodes=("pve1",))
        with pytest.raises(ProxmoxError) as err:
            run(ProxmoxClient("pve-a", spec, connect_timeout=0.3).observe())
    text = str(err.value)
    assert err.value.reason == "timeout"
    assert f"no TLS handshake from 127.0.0.1:{port} within 0.3 s" in text


def test_a_server_that_never_answers_times_out_naming_the_wait(tmp_path: Path) -> None:
    with RawServer(tmp_path, None) as server:
        err = observe(server, timeout=0.3)
    assert err.reason == "timeout"
    assert f"no answer from 127.0.0.1:{server.port} within 0.3 s" in str(err)
    assert len(server.requests) == 1  # a read that timed out is not sent again


def test_cancelling_does_not_wait_for_the_network(tmp_path: Path) -> None:
    """A call to a server that never answers stops when cancelled, not when the
    request times out (here 600 s): the blocking request is left to its thread."""

    async def main(server: RawServer) -> None:
        spec = runtime(server.url, fingerprint=fingerprint_of_der(server.der), nodes=("pve1",))
        client = ProxmoxClient("pve-a", spec, timeout=600)
        task = asyncio.ensure_future(client.observe())
        while not server.got_request.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with RawServer(tmp_path, None) as server:
        # In a thread with a guard: asyncio.run waits for its executor's threads when it ends.
        done = threading.Event()
        thread = threading.Thread(target=lambda: (run(main(server)), done.set()), daemon=True)
        thread.start()
        assert done.wait(30), "cancelling waited for the network"
