"""A Garage stand-in: an admin API v2 over HTTPS, backed by a real moto S3 server.

No Garage server can be installed here, so a provider's storage (the
sandbox's, and the tests') is two real HTTP servers on 127.0.0.1 that share one
CA and one server certificate (one ``fingerprint`` pins both):

- **S3**: a moto server *process* (:mod:`fedi_tui.sandbox.s3`) with IAM
  permissions enforced — a key reaches only the buckets it was allowed on;
- **admin API**: a stand-in (:mod:`fedi_tui.sandbox.garage_app` over
  :mod:`fedi_tui.sandbox.garage_cluster`) that implements the calls fedi-tui
  makes and validates **every** request and response against Garage's own v2
  spec (:mod:`fedi_tui.sandbox.garage_spec`). Its buckets and keys are created
  on the moto server, so every S3 check is a real S3 call over HTTP, signed
  with the key Garage handed out.

A call the spec does not allow is answered 400 and recorded in
:attr:`GarageStandIn.violations` (the pytest fixtures in
``tests/fixtures/garage.py`` fail the test at teardown when there is any).

Use::

    with running_garage(directory, provider="a") as garage:
        os.environ.update(garage.env())      # the admin token, under garage.token_env
        garage.storage_entry()               # the [storage.<name>] table as data
        garage.calls                         # every request: method, op, query, body, status
        garage.fail("GetBucketInfo", status=503)   # the next call of that operation fails
        garage.set_health("unavailable")     # GetClusterHealth reports it
        garage.s3(key_id, secret)            # a boto3 S3 client (moto) signing with that key

Endpoints: ``garage.s3_endpoint``, ``garage.admin_endpoint``,
``garage.ca_file``, ``garage.fingerprint``, ``garage.token_env``; region
``garage``. Loopback only.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from fedi_tui.core.state.spec import GarageStorageSpec
from fedi_tui.sandbox.garage_app import Call, Fault, GarageApp
from fedi_tui.sandbox.garage_cluster import HEALTH_PRESETS, Bucket, Key
from fedi_tui.sandbox.s3 import REGION, MotoServer, running_moto
from fedi_tui.sandbox.sshd import free_port
from fedi_tui.sandbox.tls import ServerCerts, make_certs

Trust = Literal["ca", "fingerprint", "system"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class GarageStandIn:
    """One test provider's Garage: the admin stand-in and the moto S3 server behind it."""

    provider: str
    app: GarageApp
    moto: MotoServer
    certs: ServerCerts
    admin_port: int
    token: str = field(repr=False)
    server: BaseWSGIServer | None = field(default=None, repr=False, compare=False)

    @property
    def running(self) -> bool:
        """Both servers still serve (the admin socket is open, the moto process alive)."""
        return self.server is not None and self.server.socket.fileno() != -1 and self.moto.running

    @property
    def admin_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.admin_port}"

    @property
    def s3_endpoint(self) -> str:
        return self.moto.url

    @property
    def ca_file(self) -> str:
        return str(self.certs.ca_file)

    @property
    def fingerprint(self) -> str:
        return self.certs.fingerprint

    @property
    def token_env(self) -> str:
        """The environment variable the storage's ``admin_token`` reference names."""
        return f"FEDI_TEST_GARAGE_{self.provider.upper()}_TOKEN"

    def env(self) -> dict[str, str]:
        return {self.token_env: self.token}

    # --- what fedi.toml says ------------------------------------------------------

    def storage_entry(self, *, trust: Trust = "ca") -> dict[str, Any]:
        """The ``[storage.<name>]`` table as data (trust: ca_file, fingerprint or neither)."""
        entry: dict[str, Any] = {
            "kind": "garage",
            "s3_endpoint": self.s3_endpoint,
            "admin_endpoint": self.admin_endpoint,
            "admin_token": {"env": self.token_env},
            "region": REGION,
        }
        if trust == "ca":
            entry["ca_file"] = self.ca_file
        elif trust == "fingerprint":
            entry["fingerprint"] = self.fingerprint
        return entry

    def spec(self, *, trust: Trust = "ca", **overrides: Any) -> GarageStorageSpec:
        return GarageStorageSpec.model_validate({**self.storage_entry(trust=trust), **overrides})

    def storage_toml(self, name: str, *, trust: Trust = "ca") -> str:
        lines = [f"[storage.{name}]"]
        for key, value in self.storage_entry(trust=trust).items():
            if isinstance(value, dict):  # JSON strings are TOML basic strings
                inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        return "\n".join(lines) + "\n"

    # --- what happened, and faults ------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return list(self.app.calls)

    @property
    def violations(self) -> list[str]:
        return list(self.app.violations)

    def mutations(self) -> list[Call]:
        """The calls that could change something (POST)."""
        return [c for c in self.calls if c.mutates]

    def fail(
        self,
        op: str,
        *,
        status: int = 500,
        body: bytes | None = None,
        content_type: str = "application/json",
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next *times* calls of *op* with *status* and *body* (Garage's error
        body by default) instead of doing them. The request is still checked against the
        spec; the answer is not (it is meant to be wrong)."""
        if body is None:
            body = (
                b'{"code": "InternalError", "message": "stand-in fault", '
                b'"region": "garage", "path": "/v2/' + op.encode() + b'"}'
            )
        with self.app._lock:
            self.app.faults.append(Fault(op, status, body, content_type, times, headers or {}))

    def set_health(self, preset: Literal["healthy", "degraded", "unavailable"]) -> None:
        with self.app._lock:
            self.app.cluster.health = dict(HEALTH_PRESETS[preset])

    # --- looking inside -----------------------------------------------------------

    def bucket(self, name: str) -> Bucket | None:
        return next((b for b in self.app.cluster.buckets.values() if b.alias == name), None)

    def key(self, name: str) -> Key | None:
        return next((k for k in self.app.cluster.keys.values() if k.name == name), None)

    def s3(self, access_key_id: str | None = None, secret: str | None = None) -> Any:
        """A boto3 S3 client for the moto server, signing with that key (else as moto's admin)."""
        return self.moto.client("s3", access_key_id, secret)

    def reset(self, token: str | None = None) -> None:
        """Empty S3 and IAM, forget buckets, keys, calls and faults; new admin token
        (*token*, else a random one)."""
        self.moto.reset()
        self.token = token or secrets.token_hex(32)
        self.app.reset(self.token)


def _serve(app: GarageApp, certs: ServerCerts) -> tuple[BaseWSGIServer, threading.Thread]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert_file, certs.key_file)
    for _attempt in range(3):
        try:
            server = make_server(
                "127.0.0.1",
                free_port("127.0.0.1"),
                app,
                threaded=True,
                request_handler=_QuietHandler,
                ssl_context=context,
            )
            break
        except OSError:  # the free port was taken meanwhile
            continue
    else:
        raise RuntimeError("the Garage admin stand-in could not bind a port on 127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, name="garage-admin", daemon=True)
    thread.start()
    return server, thread


@contextlib.contextmanager
def running_garage(
    directory: Path,
    *,
    provider: str = "a",
    moto: MotoServer | None = None,
    token: str | None = None,
) -> Iterator[GarageStandIn]:
    """Start a Garage stand-in for *provider* (and its moto server unless given), reset;
    its admin token is *token* (else a random one)."""
    with contextlib.ExitStack() as stack:
        if moto is None:
            certs = make_certs(directory / "tls", name=f"provider-{provider}")
            moto = stack.enter_context(running_moto(directory / "moto", certs=certs))
        if moto.certs is None:
            raise ValueError("the Garage stand-in needs a moto server with TLS (certs)")
        token = token or secrets.token_hex(32)
        app = GarageApp(moto, token)
        server, thread = _serve(app, moto.certs)
        try:
            garage = GarageStandIn(
                provider=provider,
                app=app,
                moto=moto,
                certs=moto.certs,
                admin_port=server.server_port,
                token=token,
                server=server,
            )
            garage.reset(token)
            yield garage
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
