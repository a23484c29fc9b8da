"""boto3 clients for a Garage S3 endpoint, sending over fedi-tui's hardened HTTPS session.

botocore signs every request as usual; its ``before-send`` event (the hook
botocore offers for replacing the HTTP layer) then hands the signed request to
a :class:`requests.Session` from :func:`fedi_tui.adapters.tls.https_session`.
So the S3 client trusts exactly what the admin client trusts — the storage's
``ca_file``, its pinned ``fingerprint`` or the system CAs — takes no proxy or
CA bundle from the environment, follows no redirect, and a failed connection
becomes the same kind of message.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from fedi_tui.adapters.tcpconnect import target_of
from fedi_tui.adapters.tls import Trust, explain_transport, https_session, trust_of
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.spec import GarageStorageSpec
from fedi_tui.core.text import visible_line

__all__ = ["PIN_HOWTO", "S3Transport"]

PIN_HOWTO = (
    "pin the certificate with the fedi-tui runtimes screen (3, then t: Test connection and "
    "p: Pin on the storage), or set ca_file or fingerprint of the storage in fedi.toml "
    "(they apply to both s3_endpoint and admin_endpoint)"
)


def _content_md5(request: Any, **_: Any) -> None:
    """DeleteObjects with Content-MD5, which every S3 implementation accepts (botocore ≥ 1.36
    sends only a CRC32 checksum, which some S3 servers refuse)."""
    body = request.body
    if isinstance(body, bytes) and "Content-MD5" not in request.headers:
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        request.headers["Content-MD5"] = base64.b64encode(digest).decode("ascii")


class S3Transport:
    """Makes boto3 S3 clients for one storage; all of them share one HTTPS session."""

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
        parts = urlsplit(spec.s3_endpoint)
        default_port = 443 if parts.scheme == "https" else 80
        self.target = target_of(parts.hostname or "", parts.port or default_port)
        self.prefix = f"storage {name} ({spec.s3_endpoint})"
        self._lock = threading.Lock()
        self._boto: boto3.session.Session | None = None
        self._session: requests.Session | None = None
        self._trust: Trust | None = None

    def __repr__(self) -> str:
        return f"S3Transport({self.name!r}, {self.spec.s3_endpoint!r})"

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None

    def scrub(self, text: str) -> str:
        return visible_line(" ".join(str(text).split()))

    def client(self, access_key_id: str, secret: str) -> Any:
        """An S3 client signing with this key (path-style, SigV4, the storage's region)."""
        with self._lock:
            if self._trust is None:
                self._trust = trust_of(
                    self.spec.ca_file,
                    self.spec.fingerprint,
                    self.base_dir,
                    where=f"storage.{self.name}",
                )
            if self._session is None:
                self._session = https_session(self._trust)
            if self._boto is None:
                self._boto = boto3.session.Session()
            config = Config(
                region_name=self.spec.region,
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=self.timeout[0],
                read_timeout=self.timeout[1],
                retries={"max_attempts": 2, "mode": "standard"},
                user_agent_appid="fedi-tui",
            )
            client = self._boto.client(
                "s3",
                endpoint_url=self.spec.s3_endpoint,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret,
                config=config,
            )
        client.meta.events.register("before-sign.s3.DeleteObjects", _content_md5)
        client.meta.events.register("before-send.s3", self._send)
        return client

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        session, trust = self._session, self._trust
        if session is None or trust is None:
            raise FediError(f"{self.prefix}: the S3 client was closed")
        # requests speaks no 100-continue; the body is sent at once instead.
        headers = {k: v for k, v in request.headers.items() if k.lower() != "expect"}
        try:
            response = session.request(
                request.method,
                request.url,
                headers=headers,
                data=request.body,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise explain_transport(
                exc,
                prefix=self.prefix,
                what=f"S3 {request.method} {urlsplit(request.url).path}",
                target=self.target,
                trust=trust,
                howto=PIN_HOWTO,
                scrub=self.scrub,
                setting=f"storage.{self.name}.s3_endpoint",
            ) from None
        return AWSResponse(request.url, response.status_code, response.headers, response.raw)
