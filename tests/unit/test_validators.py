"""Every pattern matches the whole value: a trailing newline (Python's `$` allows one) or a
second line is refused, for each validated string of the state file."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from fedi_tui.core.apps.base import AdminAccount
from fedi_tui.core.state import validators
from fedi_tui.core.state.secretref import SecretRef
from fedi_tui.core.state.spec import (
    Fingerprint,
    NetworkSpec,
    NixosRuntimeSpec,
    ProxmoxRuntimeSpec,
    SshSpec,
)

FINGERPRINT = ":".join(["AB"] * 32)
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB090aQKWbebDKqfGSVLSKpPbvpc/aTNIiEopglL7Hcf"

TYPES: list[tuple[str, Any, str]] = [
    ("domain", validators.DomainName, "hillside.test"),
    ("e-mail", validators.EmailAddress, "it@hillside.test"),
    ("https url", validators.HttpsUrl, "https://127.0.0.1:8006"),
    ("http url", validators.HttpUrl, "http://127.0.0.1:3900"),
    ("identifier", validators.Identifier, "pve-a"),
    ("username", validators.Username, "it_admin"),
    ("host", validators.HostName, "127.0.0.2"),
    ("host name", validators.HostName, "box1.hillside.test"),
    ("fingerprint", Fingerprint, FINGERPRINT),
]


@pytest.mark.parametrize(("name", "tp", "good"), TYPES, ids=[t[0] for t in TYPES])
@pytest.mark.parametrize("damage", ["{}\n", "{}\r\n", "{}\nmore", "\n{}"])
def test_a_type_refuses_more_lines(name: str, tp: Any, good: str, damage: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(tp)
    assert adapter.validate_python(good) == good
    with pytest.raises(ValidationError):
        adapter.validate_python(damage.format(good))


def _proxmox(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "proxmox",
        "api": "https://127.0.0.1:8006",
        "token_id": "root@pam!fedi",
        "token": {"env": "PVE_TOKEN"},
        "fingerprint": FINGERPRINT,
        "nodes": {"pve1": {"cores": 8, "memory_gib": 32, "disk_gib": 500}},
        "template": 9000,
        "network": {
            "cidr": "127.0.10.0/24",
            "gateway": "127.0.10.1",
            "pool": "127.0.10.10-127.0.10.20",
        },
        "ssh": {"key": "~/.ssh/id"},
        "vmids": "10000-19999",
    }
    for key, value in change.items():
        if key in ("pool",):
            base["network"] = {**base["network"], key: value}
        else:
            base[key] = value
    return base


FIELDS: list[tuple[str, Any, Any]] = [
    ("api", ProxmoxRuntimeSpec, lambda v: _proxmox(api=v)),
    ("token_id", ProxmoxRuntimeSpec, lambda v: _proxmox(token_id=v)),
    ("vmids", ProxmoxRuntimeSpec, lambda v: _proxmox(vmids=v)),
    ("pool", ProxmoxRuntimeSpec, lambda v: _proxmox(pool=v)),
    ("host", NixosRuntimeSpec, lambda v: {"kind": "nixos", "host": v, "ssh": {"key": "k"}}),
    (
        "host_key",
        NixosRuntimeSpec,
        lambda v: {"kind": "nixos", "host": "h", "host_key": v, "ssh": {"key": "k"}},
    ),
    ("authorized_keys", SshSpec, lambda v: {"key": "k", "authorized_keys": [v]}),
    ("admin.username", AdminAccount, lambda v: {"username": v, "email": "a@b.test"}),
    ("secret env", SecretRef, lambda v: {"env": v}),
]
GOOD = {
    "api": "https://127.0.0.1:8006",
    "token_id": "root@pam!fedi",
    "vmids": "10000-19999",
    "pool": "127.0.10.10-127.0.10.20",
    "host": "127.0.0.2",
    "host_key": HOST_KEY,
    "authorized_keys": f"{HOST_KEY} noc@demo-hosting.test",
    "admin.username": "it_admin",
    "secret env": "PVE_TOKEN",
}


@pytest.mark.parametrize(("name", "model", "make"), FIELDS, ids=[f[0] for f in FIELDS])
def test_a_field_refuses_a_trailing_newline(name: str, model: Any, make: Any) -> None:
    good = GOOD[name]
    model.model_validate(make(good))
    for bad in (f"{good}\n", f"{good}\nx = 1"):
        with pytest.raises(ValidationError):
            model.model_validate(make(bad))


def test_network_pool_still_allows_spaces_around_the_dash() -> None:
    NetworkSpec(cidr="127.0.10.0/24", gateway="127.0.10.1", pool="127.0.10.10 - 127.0.10.20")
