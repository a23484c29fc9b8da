"""The wire of the Garage admin API v2: one HTTPS call, its answer as JSON, or a clear error.

Every call is ``GET`` or ``POST /v2/<Operation>`` with the bearer token from
the storage's ``admin_token`` reference (resolved on the first call, in the
worker thread, never shown). Connect timeouts are short, redirects are never
followed, the environment's proxies do not apply, and TLS is verified as
:mod:`fedi_tui.adapters.tls` says. Whatever the server answers that is not the
expected JSON — a redirect, HTML, a 4xx/5xx, an empty body — becomes a
:class:`GarageError` whose message names the storage, the endpoint, the
operation, what was expected and what to do. Text from the server passes
through :func:`fedi_tui.core.text.visible_line` and never carries the token.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from fedi_tui.adapters.tcpconnect import target_of
from fedi_tui.adapters.tls import Trust, explain_transport, https_session, trust_of
from fedi_tui.core.deploy.ports import StorageError
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import GarageStorageSpec
from fedi_tui.core.text import visible_line

__all__ = ["GarageError", "GarageHttp"]

_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry
_SHOWN = 200  # characters of a server's text quoted in a message

Reason = Literal["auth", "missing", "refused", "conflict", "server", "answer", "transport"]

PIN_HOWTO = (
    "pin the certificate with the fedi-tui runtimes screen (3, then t: Test connection and "
    "p: Pin on the storage), or set ca_file or fingerprint of the storage in fedi.toml"
)


class GarageError(StorageError):
    """A Garage admin API call failed; ``reason``, ``status`` and ``code`` say how."""

    def __init__(
        self, message: str, *, reason: Reason, status: int | None = None, code: str = ""
    ) -> None:
        super().__init__(message, reason=reason)
        self.reason: Reason = reason
        self.status = status
        self.code = code


class GarageHttp:
    """Calls to one Garage cluster's admin API (blocking; run them in a worker thread)."""

    def __init__(
        self,
        name: str,
        spec: GarageStorageSpec,
        base_dir: Path | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.spec = spec
        self.base_dir = base_dir
        self.timeout = (connect_timeout, read_timeout)
        self.base = spec.admin_endpoint.rstrip("/")
        parts = urlsplit(spec.admin_endpoint)
        default_port = 443 if parts.scheme == "https" else 80
        self.target = target_of(parts.hostname or "", parts.port or default_port)
        self.prefix = f"storage {name} ({spec.admin_endpoint})"
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._trust: Trust | None = None
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"GarageHttp({self.name!r}, {self.spec.admin_endpoint!r})"

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None
            self._token = None

    def scrub(self, text: str) -> str:
        """Text from the server or an exception, on one line, visible, the token blotted out."""
        line = " ".join(str(text).split())
        if self._token:
            line = line.replace(self._token, "***")
        return visible_line(line)

    def _connect(self) -> tuple[requests.Session, Trust, str]:
        with self._lock:
            if self._session is not None and self._trust is not None and self._token:
                return self._session, self._trust, self._token
            try:
                trust = trust_of(
                    self.spec.ca_file,
                    self.spec.fingerprint,
                    self.base_dir,
                    where=f"storage.{self.name}",
                )
            except FediError as exc:
                raise GarageError(f"{self.prefix}: {exc}", reason="transport") from None
            try:
                value = self.spec.admin_token.resolve(self.base_dir).get_secret_value()
            except FediError as exc:
                raise GarageError(f"{self.prefix}: admin_token: {exc}", reason="auth") from None
            if not _TOKEN_CHARS.fullmatch(value):
                raise GarageError(
                    f"{self.prefix}: the admin token read from "
                    f"{self.spec.admin_token.describe()} is empty or contains spaces or control "
                    "characters (not shown); check it",
                    reason="auth",
                )
            self._session, self._trust, self._token = https_session(trust), trust, value
            return self._session, trust, value

    def call(
        self,
        method: Literal["GET", "POST"],
        op: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        what: str,
        missing_ok: bool = False,
        empty_ok: bool = False,
    ) -> Any:
        """Call ``/v2/<op>`` with *query* in the query string and *body* as JSON.

        Returns the decoded JSON; None for a 404 when *missing_ok*, or for an
        empty 200 when *empty_ok* (DeleteBucket, DeleteKey answer nothing).
        *what* says in words what the call is for, for messages.
        """
        session, trust, token = self._connect()
        url = f"{self.base}/v2/{op}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = session.request(
                method,
                url,
                params=query,
                data=json.dumps(body).encode() if body is not None else None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            error = explain_transport(
                exc,
                prefix=self.prefix,
                what=what,
                target=self.target,
                trust=trust,
                howto=PIN_HOWTO,
                scrub=self.scrub,
                setting=f"storage.{self.name}.admin_endpoint",
            )
            raise GarageError(str(error), reason="transport") from None
        with response:
            return self._answer(op, what, response, missing_ok=missing_ok, empty_ok=empty_ok)

    def _answer(
        self,
        op: str,
        what: str,
        response: requests.Response,
        *,
        missing_ok: bool,
        empty_ok: bool,
    ) -> Any:
        status = response.status_code
        where = f"{self.prefix}: {what}"
        if 300 <= status < 400:
            to = self.scrub(response.headers.get("Location", "?"))
            raise GarageError(
                f"{where}: {op} answered HTTP {status}, a redirect to {to}; fedi-tui does not "
                f"follow redirects (the token would go along): set "
                f"storage.{self.name}.admin_endpoint to the admin API's own address",
                reason="answer",
                status=status,
            )
        if status >= 400:
            code, said = self._error_of(response)
            self._raise_status(where, op, status, code, said, missing_ok=missing_ok)
            return None
        if status != 200:
            raise GarageError(
                f"{where}: {op} answered HTTP {status}; expected 200 with JSON from Garage's "
                "admin API v2",
                reason="answer",
                status=status,
            )
        raw = response.content
        if not raw.strip():
            if empty_ok:
                return None
            raise GarageError(
                f"{where}: {op} answered 200 with an empty body; expected JSON from Garage's "
                f"admin API v2 — is storage.{self.name}.admin_endpoint the admin API "
                "(port 3903), and Garage 2.0 or newer?",
                reason="answer",
                status=status,
            )
        try:
            return json.loads(raw)
        except ValueError:
            kind = self.scrub(response.headers.get("Content-Type", "no content type"))
            text = self.scrub(raw[:_SHOWN].decode("utf-8", "replace"))
            raise GarageError(
                f"{where}: {op} answered 200 with {kind} that is not JSON ({text!r}); "
                f"expected JSON from Garage's admin API v2 — is "
                f"storage.{self.name}.admin_endpoint the admin API (port 3903), not the S3 or "
                "web endpoint or a proxy's page?",
                reason="answer",
                status=status,
            ) from None

    def _error_of(self, response: requests.Response) -> tuple[str, str]:
        """Garage's error code and message, from its JSON error body or the raw text."""
        raw = response.content[:4096]
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return self.scrub(str(data.get("code", ""))), self.scrub(data["message"])[:_SHOWN]
        text = self.scrub(raw.decode("utf-8", "replace"))[:_SHOWN]
        return "", text or response.reason or ""

    def _raise_status(
        self, where: str, op: str, status: int, code: str, said: str, *, missing_ok: bool
    ) -> None:
        quoted = f"{code}: {said}" if code and code not in said else said
        answer = f"HTTP {status}" + (f" ({quoted})" if quoted else "")
        if status in (401, 403):
            raise GarageError(
                f"{where}: Garage refused the admin token read from "
                f"{self.spec.admin_token.describe()} ({answer}); check that it is the "
                "cluster's admin_token (garage.toml [admin]) or a token made with "
                "`garage admin-token create` that may call " + op,
                reason="auth",
                status=status,
                code=code,
            )
        if status == 404:
            if missing_ok:
                return
            raise GarageError(
                f"{where}: not found ({answer}); it may have been deleted by hand — plan again "
                "to see what is missing",
                reason="missing",
                status=status,
                code=code,
            )
        if status == 409:
            raise GarageError(
                f"{where}: Garage refused it as a conflict ({answer})",
                reason="conflict",
                status=status,
                code=code,
            )
        if status >= 500:
            raise GarageError(
                f"{where}: Garage failed ({answer}); check the cluster (`garage status`, the "
                "Garage log on the node) and run again",
                reason="server",
                status=status,
                code=code,
            )
        raise GarageError(
            f"{where}: Garage refused {op} ({answer})",
            reason="refused",
            status=status,
            code=code,
        )
