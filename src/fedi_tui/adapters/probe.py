"""Test a connection: reach a runtime or storage endpoint and show what identifies it.

This is the *trust-on-first-use* step of adding a Proxmox cluster, a NixOS host
or a Garage endpoint. The probes connect, read the identity the server presents
and hand it back for the user to compare and pin in ``fedi.toml``:

* :func:`probe_tls` completes a TLS handshake **without verifying** the
  certificate (there is nothing to verify it against yet) and returns the
  SHA-256 fingerprint of the leaf certificate, the value that goes into a
  ``fingerprint = "AA:BB:…"`` field. It never sends an HTTP request, a token or
  a password: the connection is closed right after the handshake, so an
  impostor learns nothing but that someone connected.
* :func:`probe_ssh` runs the SSH key exchange (no authentication) and returns
  the server's host key as an OpenSSH public-key line, the value that goes into
  ``host_key``, and its ``SHA256:…`` fingerprint as ``ssh-keygen -l`` prints it.

What the probes return is only as trustworthy as the network path it came over:
the user should compare the fingerprint with one read on the server's console
(``pvenode cert info``, ``ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub``)
before pinning it. Every later connection verifies against the pinned value.

No probe raises: every failure (name lookup, refused, timeout, wrong protocol)
comes back as a one-line :attr:`ProbeResult.error` that says what failed and
what to check. Only :class:`asyncio.CancelledError` propagates, so Ctrl+C and
closing a screen stop a probe at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from urllib.parse import urlsplit

from fedi_tui.adapters.tcpconnect import (
    ConnectFailed,
    one_line,
    seconds,
    target_of,
    tcp_connect,
)
from fedi_tui.core.probes import ProbeResult
from fedi_tui.core.text import visible_line

__all__ = ["ProbeResult", "fingerprint_of_der", "probe_ssh", "probe_tls", "probe_url"]

_CLOSE_WAIT = 1.0  # seconds to wait for a TLS close_notify round trip before aborting


def fingerprint_of_der(der: bytes) -> str:
    """SHA-256 of a DER certificate as 32 upper-case hex pairs joined by ``:``."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


# --- helpers -----------------------------------------------------------------


def _result(
    target: str,
    *,
    error: str | None,
    latency_ms: float | None = None,
    tls_fingerprint: str | None = None,
    tls_subject: str | None = None,
    ssh_host_key: str | None = None,
    ssh_fingerprint: str | None = None,
) -> ProbeResult:
    return ProbeResult(
        target=target,
        reachable=latency_ms is not None,
        latency_ms=latency_ms,
        tls_fingerprint=tls_fingerprint,
        tls_subject=tls_subject,
        ssh_host_key=ssh_host_key,
        ssh_fingerprint=ssh_fingerprint,
        error=error,
    )


def _subject_of_der(der: bytes) -> str | None:
    """The certificate's subject as an RFC 4514 string, or None if it cannot be parsed."""
    try:
        from cryptography import x509  # asyncssh depends on cryptography

        # the server chose it: a CN can hold terminal escape sequences
        return visible_line(x509.load_der_x509_certificate(der).subject.rfc4514_string()) or None
    except Exception:
        return None


def _tls_reason(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return one_line(reason.replace("_", " ").lower())
    return one_line(exc)


class _Closing(asyncio.Protocol):
    """Does nothing but notice when the connection has gone."""

    def __init__(self) -> None:
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


# --- probes ------------------------------------------------------------------


async def probe_tls(host: str, port: int, timeout: float = 5.0) -> ProbeResult:
    """Connect to *host*:*port*, complete a TLS handshake and read the server certificate.

    Trust on first use: the certificate is deliberately **not verified** — the
    point is to show it so the user can compare its fingerprint with the
    server's and pin it. Nothing is sent but the TLS handshake (no request, no
    credentials); the connection is closed straight after. *timeout* applies to
    the TCP connect and to the handshake separately.
    """
    target = target_of(host, port)
    try:
        sock, latency = await tcp_connect(host, port, timeout)
    except ConnectFailed as exc:
        return _result(target, error=str(exc))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # TOFU: read the certificate, do not judge it
    loop = asyncio.get_running_loop()
    transport: asyncio.Transport | None = None
    protocol: _Closing | None = None
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await loop.create_connection(
                _Closing,
                sock=sock,
                ssl=context,
                server_hostname=host,  # SNI for names; Python sends none for IP addresses
                ssl_handshake_timeout=timeout + 1.0,
            )
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return _result(
                target,
                latency_ms=latency,
                error=f"{target} completed the TLS handshake without a certificate; "
                "fedi-tui needs one to pin — check the server's TLS set-up",
            )
        return _result(
            target,
            latency_ms=latency,
            error=None,
            tls_fingerprint=fingerprint_of_der(der),
            tls_subject=_subject_of_der(der),
        )
    except TimeoutError:
        return _result(
            target,
            latency_ms=latency,
            error=f"{target} accepted the connection but did not complete a TLS handshake "
            f"within {seconds(timeout)}: is it an HTTPS port? check the URL's port",
        )
    except ssl.SSLError as exc:
        return _result(
            target,
            latency_ms=latency,
            error=f"TLS handshake with {target} failed ({_tls_reason(exc)}): the port does "
            "not seem to speak TLS; is it plain http:// or an SSH port? check the URL",
        )
    except (ConnectionError, EOFError) as exc:
        return _result(
            target,
            latency_ms=latency,
            error=f"{target} closed the connection during the TLS handshake "
            f"({one_line(exc) or type(exc).__name__}): is it an HTTPS port? check the URL",
        )
    except Exception as exc:
        return _result(
            target,
            latency_ms=latency,
            error=f"TLS probe of {target} failed: {type(exc).__name__}: {one_line(exc)}",
        )
    finally:
        if transport is None:
            sock.close()
        else:
            transport.close()  # sends close_notify; wait briefly so nothing is left behind
            if protocol is not None:
                try:
                    async with asyncio.timeout(_CLOSE_WAIT):
                        await asyncio.shield(protocol.lost)
                except TimeoutError:
                    transport.abort()


async def probe_ssh(host: str, port: int = 22, timeout: float = 5.0) -> ProbeResult:
    """Connect to *host*:*port* and run the SSH key exchange to read the server's host key.

    No authentication is attempted and no user name is sent; ``~/.ssh/config``,
    the agent and known_hosts are not consulted (trust on first use: the key is
    shown so the user can compare and pin it). *timeout* applies to the TCP
    connect and to the key exchange separately.
    """
    target = target_of(host, port)
    try:
        sock, latency = await tcp_connect(host, port, timeout)
    except ConnectFailed as exc:
        return _result(target, error=str(exc))

    # imported here: the probe module stays cheap to import
    import asyncssh

    from fedi_tui.adapters.hostkey import openssh_line, read_host_key

    try:
        async with asyncio.timeout(timeout):
            key = await read_host_key(sock=sock)
    except TimeoutError:
        return _result(
            target,
            latency_ms=latency,
            error=f"{target} accepted the connection but did not complete an SSH key exchange "
            f"within {seconds(timeout)}: is sshd listening on this port? check the port",
        )
    except asyncssh.Error as exc:
        reason = one_line(exc.reason) or type(exc).__name__
        return _result(
            target,
            latency_ms=latency,
            error=f"SSH key exchange with {target} failed ({reason}): "
            "is this an SSH port? check the address and port",
        )
    except (ConnectionError, EOFError) as exc:
        return _result(
            target,
            latency_ms=latency,
            error=f"{target} closed the connection during the SSH key exchange "
            f"({one_line(exc) or type(exc).__name__}): is this an SSH port? check the port",
        )
    except Exception as exc:
        return _result(
            target,
            latency_ms=latency,
            error=f"SSH probe of {target} failed: {type(exc).__name__}: {one_line(exc)}",
        )
    finally:
        sock.close()  # asyncssh closed its transport already; this only covers early failures
    if key is None:
        return _result(
            target,
            latency_ms=latency,
            error=f"{target} completed the SSH key exchange without a host key (GSS key "
            "exchange?): give the host key by hand",
        )
    return _result(
        target,
        latency_ms=latency,
        error=None,
        ssh_host_key=openssh_line(key),
        ssh_fingerprint=key.get_fingerprint("sha256"),
    )


async def probe_url(url: str, timeout: float = 5.0) -> ProbeResult:
    """Probe the endpoint of a URL: ``https://`` → :func:`probe_tls`, ``http://`` → TCP only.

    ``ssh://host[:port]`` is accepted too and runs :func:`probe_ssh`. The path
    and query are ignored: no request is ever sent.
    """
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        return _result(url, error=f"cannot read URL {url!r} ({one_line(exc)}): check the port")
    if "://" not in url:
        return _result(
            url,
            error=f"cannot probe {url!r}: the URL has no scheme; "
            f"write https://{url.strip()} (or http://, ssh://)",
        )
    if scheme not in ("https", "http", "ssh"):
        return _result(
            url,
            error=f"cannot probe {url!r}: {scheme}:// is not supported; "
            "write https://host:port (or http://, ssh://)",
        )
    if not host:
        return _result(url, error=f"URL {url!r} names no host: write {scheme}://host:port")
    if scheme == "https":
        return await probe_tls(host, port or 443, timeout)
    if scheme == "ssh":
        return await probe_ssh(host, port or 22, timeout)
    target = target_of(host, port or 80)
    try:
        sock, latency = await tcp_connect(host, port or 80, timeout)
    except ConnectFailed as exc:
        return _result(target, error=str(exc))
    sock.close()
    return _result(target, latency_ms=latency, error=None)
