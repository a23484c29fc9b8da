"""Open a TCP connection with a time limit and a message a person can act on.

Used by the connection probes; the socket it returns is handed on to TLS or SSH.
:func:`one_line` is the adapters' way to quote text from outside in a message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

from fedi_tui.core.text import visible_line

# What usually listens on a port, to make "connection refused" actionable.
SERVICES = {
    22: "sshd",
    443: "the HTTPS server",
    3900: "Garage (S3 API)",
    3903: "Garage (admin API)",
    8006: "pveproxy",
}


def target_of(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def one_line(text: object) -> str:
    """`text` on one line, safe to show: it often comes from a server (a DISCONNECT reason,
    an HTTP reason phrase), so runs of white space become one space and every other
    control character (`ESC]0;…` retitles a terminal, `ESC[2K` erases a line) is shown
    as an escape instead of reaching the terminal."""
    return visible_line(" ".join(str(text).split()))


def seconds(timeout: float) -> str:
    return f"{timeout:g} s"


class ConnectFailed(Exception):
    """The TCP connection could not be made; carries the user-facing message."""


async def tcp_connect(host: str, port: int, timeout: float) -> tuple[socket.socket, float]:
    """Resolve *host* and open a TCP connection; returns the socket and the connect time in ms."""
    target = target_of(host, port)
    service = SERVICES.get(port, "the service")
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise ConnectFailed(
                    f"cannot resolve {target}: no address for host name {host!r} "
                    f"({one_line(exc.strerror)}); check the spelling, or give an IP address"
                ) from None
            last: OSError | None = None
            for family, kind, proto, _name, address in infos:
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
                start = time.perf_counter()
                try:
                    await loop.sock_connect(sock, address)
                except BaseException as exc:
                    sock.close()
                    if not isinstance(exc, OSError):
                        raise
                    last = exc
                    continue
                return sock, (time.perf_counter() - start) * 1000.0
    except TimeoutError:
        raise ConnectFailed(
            f"no answer from {target} within {seconds(timeout)} (connect timed out): "
            "the host may be down or a firewall drops the packets; check the address and port"
        ) from None
    if isinstance(last, ConnectionRefusedError):
        raise ConnectFailed(
            f"connection refused on {target}: nothing listens there; "
            f"is {service} running? check the address and port"
        )
    if last is None:
        raise ConnectFailed(f"cannot connect to {target}: {host!r} has no address; check it")
    raise ConnectFailed(
        f"cannot connect to {target}: {one_line(last.strerror or last)}; "
        "check the address, the port and the route to the host"
    )
