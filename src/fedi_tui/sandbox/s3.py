"""A real S3 server: moto's server *process*, over HTTPS, with IAM permissions enforced.

``python -m moto.server -H 127.0.0.1 -p PORT -c CERT -k KEY`` runs in its own
process (one per test provider: servers in one process would share their
state), and is ready when ``/moto-api/`` answers over TLS.

**Permissions are real.** moto's S3 does not check permissions by default.
Here every request must be signed by an IAM access key that exists on the
server, with a valid SigV4 signature, and the key's IAM policies must allow the
action on the bucket or object (moto's IAM authentication mode,
``/moto-api/reset-auth`` with ``0``). :meth:`MotoServer.reset` empties the
server (``POST /moto-api/reset``), creates the ``admin`` IAM user with an
allow-all policy while enforcement is briefly off, then turns enforcement on.
The Garage admin stand-in (:mod:`fedi_tui.sandbox.garage`) creates one IAM user
per Garage key and turns Garage's read/write/owner flags into IAM policies,
so another operator's key is really refused.

Use it as a context manager anywhere::

    with running_moto(directory, certs=make_certs(directory)) as moto:
        moto.reset()
        s3 = moto.client("s3")                      # the admin's credentials
        s3.create_bucket(Bucket="b", CreateBucketConfiguration={"LocationConstraint": "garage"})

or, in pytest, ask ``moto_factory`` (session-scoped, ``tests/fixtures/s3.py``)
for the server of a provider: ``moto_factory("a")``, started once per session;
call ``reset()`` in the test (the Garage fixtures do). Loopback only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from fedi_tui.sandbox.sshd import free_port
from fedi_tui.sandbox.tls import ServerCerts

REGION = "garage"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
ADMIN_USER = "admin"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def s3_config() -> Config:
    """boto3 settings for a Garage-like endpoint (path-style, SigV4, checksums when required)."""
    return Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 1},
    )


@dataclass
class MotoServer:
    """A running moto server and the credentials of its ``admin`` IAM user."""

    address: str
    port: int
    certs: ServerCerts | None
    log: Path
    pid: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    admin_access_key_id: str = ""
    admin_secret: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        scheme = "https" if self.certs else "http"
        return f"{scheme}://{self.address}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def verify(self) -> str | bool:
        return str(self.certs.ca_file) if self.certs else False

    def _post(self, path: str, data: bytes = b"") -> Any:
        response = requests.post(f"{self.url}{path}", data=data, verify=self.verify, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Empty the server, make a fresh ``admin`` IAM user, and enforce IAM permissions."""
        self._post("/moto-api/reset")
        self._post("/moto-api/reset-auth", b"inf")  # off while the admin is made
        iam = self.client("iam", "bootstrap", "bootstrap")
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(UserName=ADMIN_USER, PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.admin_access_key_id = key["AccessKeyId"]
        self.admin_secret = key["SecretAccessKey"]
        self._post("/moto-api/reset-auth", b"0")  # from now on every request is checked

    def client(
        self, service: str = "s3", access_key_id: str | None = None, secret: str | None = None
    ) -> Any:
        """A boto3 client for *service*, signing as the admin unless a key is given."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=access_key_id or self.admin_access_key_id,
            aws_secret_access_key=secret or self.admin_secret,
            config=s3_config(),
            verify=self.verify,
        )


def _check_loopback(address: str) -> None:
    ip = ipaddress.ip_address(address)
    if ip.version != 4 or not ip.is_loopback:
        raise ValueError(f"the moto server must listen on 127.0.0.0/8, not {address}")


def _wait_ready(proc: subprocess.Popen[bytes], server: MotoServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"moto exited with {proc.returncode}: {server.log.read_text()}")
        try:
            requests.get(f"{server.url}/moto-api/", verify=server.verify, timeout=1)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto did not answer on {server.url} within {START_TIMEOUT} s: "
                    f"{server.log.read_text()}"
                ) from None
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running_moto(
    directory: Path,
    *,
    address: str = "127.0.0.1",
    certs: ServerCerts | None = None,
    new_session: bool = False,
) -> Iterator[MotoServer]:
    """Start a moto server (HTTPS with *certs*, else HTTP), yield it, stop it by its pid.

    *new_session*: the server leads a session of its own (the sandbox records it so)."""
    _check_loopback(address)
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "moto.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"  # checked from the first request
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # a free port can be taken between probe and bind
            port = free_port(address)
            server = MotoServer(address=address, port=port, certs=certs, log=log)
            tls = ["-c", str(certs.cert_file), "-k", str(certs.key_file)] if certs else []
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", address, "-p", str(port), *tls],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=directory,
                    start_new_session=new_session,
                )
            try:
                _wait_ready(proc, server)
                break
            except RuntimeError:
                _stop(proc)
                if "Address already in use" not in log.read_text():
                    raise
        else:
            raise RuntimeError(f"moto could not bind a free port on {address}: see {log}")
        server.pid, server.proc = proc.pid, proc
        yield server
    finally:
        if proc is not None:
            _stop(proc)
