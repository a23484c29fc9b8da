"""Reading an SSH server's host key: the one place a key exchange runs without trusting it.

Used to *show* a key, never to log in: by the connection probe (so the user can
compare and pin it) and by the login code (to say which key a refused server
presented). No user name is sent, nothing is authenticated, and no
``~/.ssh/config``, key file, agent or known_hosts is read — so there is
nothing to verify yet, and nothing here is trusted because of it.
"""

from __future__ import annotations

import socket

import asyncssh


def openssh_line(key: asyncssh.SSHKey) -> str:
    """``type base64`` of a public key, without the comment (the form ``host_key`` takes)."""
    words = key.export_public_key("openssh").decode("ascii").split()
    return f"{words[0]} {words[1]}"


async def read_host_key(
    host: str | None = None,
    port: int = 22,
    *,
    sock: socket.socket | None = None,
    algs: list[str] | None = None,
) -> asyncssh.SSHKey | None:
    """The host key the server offers (for `algs`, default: its preferred), or None.

    Give either `host`/`port` or an already connected `sock`.
    """
    options = asyncssh.SSHClientConnectionOptions(
        config=None, known_hosts=None, client_keys=None, agent_path=None
    )
    # server_host_key_algs is ignored inside `options`: it has to be a keyword here
    return await asyncssh.get_server_host_key(
        host, port, sock=sock, config=None, options=options, server_host_key_algs=algs or "default"
    )
