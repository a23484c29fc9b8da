"""Desired state as written in fedi.toml: the provider, its runtimes, storage and operators.

These `…Spec` models are what gets validated and persisted. Application options
are defined by the application modules (`core/apps/`) and attached to
`OperatorSpec.apps` by `core.state.model.state_model()`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from fedi_tui.core.apps.base import AppOptions
from fedi_tui.core.state.machinespec import DeploySpec, SshSpec, SystemSpec
from fedi_tui.core.state.secretref import SecretRef
from fedi_tui.core.state.specbase import Spec
from fedi_tui.core.state.validators import (
    DomainName,
    EmailAddress,
    HostName,
    HttpsUrl,
    HttpUrl,
    Identifier,
    Port,
    described,
)

Fingerprint = Annotated[
    str,
    Field(
        pattern=described(
            r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$",
            "a SHA-256 fingerprint: 32 upper-case hex pairs joined by ':' (AA:BB:…)",
        )
    ),
]
"""SHA-256 of a DER certificate as 32 upper-case hex pairs joined by ':'."""


class ProviderSpec(Spec):
    """The hosting provider running fedi-tui."""

    name: str = Field(min_length=1)
    """Provider name shown to operators."""
    domain: DomainName
    """Base domain for generated names (machine host names, default app domains)."""
    contact: EmailAddress
    """Contact e-mail; used for ACME registration."""
    state_dir: str | None = None
    """Where fedi-tui records what it did; default `.fedi/` beside the state file."""
    sandbox: bool = False
    """This state file describes a local sandbox (`fedi-tui sandbox up`): nothing is real,
    and every screen and log says so."""


class NodeSpec(Spec):
    """A Proxmox node fedi-tui may place VMs on, with its declared capacity."""

    cores: int = Field(ge=1)
    """CPU cores available to fedi-tui's VMs."""
    memory_gib: int = Field(ge=1)
    """Memory available to fedi-tui's VMs, in GiB."""
    disk_gib: int = Field(ge=1)
    """Disk space available to fedi-tui's VMs, in GiB."""


class NetworkSpec(Spec):
    """The addresses fedi-tui hands out to the VMs it creates."""

    cidr: str
    """Network of the VM bridge, e.g. '127.0.10.0/24'."""
    gateway: str
    """Default gateway of that network."""
    pool: str
    """Range fedi-tui allocates from: 'first-last', inside cidr."""
    dns: list[str] = Field(default_factory=list)
    """Name servers given to the VMs."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError("expected a network like '127.0.10.0/24' (host bits zero)") from None
        return value

    @field_validator("gateway")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("expected an IP address like '127.0.10.1'") from None
        return value

    @field_validator("dns")
    @classmethod
    def _dns(cls, value: list[str]) -> list[str]:
        for item in value:
            cls._address(item)
        return value

    @field_validator("pool")
    @classmethod
    def _pool(cls, value: str) -> str:
        if not re.fullmatch(r" *[0-9A-Fa-f.:]+ *- *[0-9A-Fa-f.:]+ *", value):
            raise ValueError("expected 'first-last', e.g. '127.0.10.10-127.0.10.200'")
        first, sep, last = value.partition("-")
        try:
            lo, hi = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            raise ValueError("expected 'first-last', e.g. '127.0.10.10-127.0.10.200'") from None
        if not sep or lo.version != hi.version or int(lo) > int(hi):
            raise ValueError("expected 'first-last' with first <= last")
        return value

    @model_validator(mode="after")
    def _inside(self) -> NetworkSpec:
        net = ipaddress.ip_network(self.cidr)
        if ipaddress.ip_address(self.gateway) not in net:
            raise ValueError(f"gateway {self.gateway} is not inside {self.cidr}")
        first, last = self.pool_range()
        if first not in net or last not in net:
            raise ValueError(f"pool {self.pool} is not inside {self.cidr}")
        return self

    def pool_range(self) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
        first, _, last = self.pool.partition("-")
        return ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())


class OvercommitSpec(Spec):
    """How far placement may commit a node beyond its capacity."""

    cpu: float = Field(default=4.0, ge=1.0, le=16.0)
    """Virtual cores per physical core."""
    memory: float = Field(default=1.0, ge=0.5, le=2.0)
    """Memory ratio; above 1.0 relies on ballooning."""
    disk: float = Field(default=1.0, ge=0.5, le=4.0)
    """Disk ratio; above 1.0 relies on thin provisioning."""


class ProxmoxRuntimeSpec(Spec):
    """A Proxmox VE cluster; fedi-tui creates one VM per app or per operator on it."""

    kind: Literal["proxmox"]
    api: HttpsUrl
    """API endpoint, e.g. 'https://127.0.0.1:8006'."""
    token_id: str = Field(
        pattern=described(
            r"^[^@\s]+@[^!\s]+![A-Za-z][A-Za-z0-9._-]*$",
            "an API token id 'user@realm!name', e.g. 'root@pam!fedi'",
        )
    )
    """API token id, 'user@realm!name'."""
    token: SecretRef
    """The API token secret, as a reference."""
    ca_file: str | None = None
    """CA certificate that signed the API's TLS certificate."""
    fingerprint: Fingerprint | None = None
    """SHA-256 fingerprint of the API's TLS certificate (AA:BB:…), instead of ca_file."""
    nodes: dict[str, NodeSpec] = Field(min_length=1)
    """Nodes fedi-tui may use, with their declared capacity."""
    template: int = Field(ge=100, le=999_999_999)
    """VMID of the NixOS template to clone."""
    storage: str = "local-lvm"
    """Proxmox storage for VM disks."""
    bridge: str = "vmbr0"
    """Network bridge for VM interfaces."""
    network: NetworkSpec
    """Addresses for the VMs."""
    ssh: SshSpec
    """How to log in to the VMs once they run."""
    system: SystemSpec = Field(default_factory=SystemSpec)
    """The NixOS system of the VMs (release, nixpkgs, base modules)."""
    placement: Literal["vm-per-app", "vm-per-operator"] = "vm-per-app"
    """One VM per application instance, or one VM per operator holding all its apps."""
    overcommit: OvercommitSpec = Field(default_factory=OvercommitSpec)
    """Limits for placing VMs on nodes."""
    vmids: str = Field(
        default="10000-19999",
        pattern=described(
            r"^\d{3,9}-\d{3,9}$", "a range of VM ids 'first-last', e.g. '10000-19999'"
        ),
    )
    """Range of VM ids fedi-tui allocates from, 'first-last'."""
    max_mutations: int = Field(default=4, ge=1, le=64)
    """Changes fedi-tui runs at once on this cluster (clones, config changes, starts, stops,
    deletes), whatever `apply --parallel` says; more wait their turn."""
    deploy: DeploySpec = Field(default_factory=DeploySpec)
    """How fedi-tui deploys to the VMs."""

    def vmid_range(self) -> range:
        first, _, last = self.vmids.partition("-")
        return range(int(first), int(last) + 1)

    @model_validator(mode="after")
    def _one_trust_anchor(self) -> ProxmoxRuntimeSpec:
        if self.ca_file is not None and self.fingerprint is not None:
            raise ValueError("give ca_file or fingerprint, not both")
        return self


class NixosRuntimeSpec(Spec):
    """One existing NixOS machine; all apps of its operators go on it."""

    kind: Literal["nixos"]
    host: HostName
    """Address or name of the machine."""
    port: Port = 22
    """SSH port."""
    ssh: SshSpec
    """How to log in."""
    system: SystemSpec = Field(default_factory=SystemSpec)
    """The NixOS system of the machine (release, nixpkgs, base modules)."""
    host_key: str | None = Field(
        default=None,
        pattern=described(
            r"^(ssh|ecdsa)-[a-z0-9-]+ [A-Za-z0-9+/=]+$",
            "an SSH public key 'ssh-ed25519 AAAA…' without a comment",
        ),
    )
    """Pinned SSH host key ('ssh-ed25519 AAAA…'); without it, fedi-tui's known_hosts decides."""
    deploy: DeploySpec = Field(default_factory=DeploySpec)
    """How fedi-tui deploys to the machine."""


RuntimeSpec = Annotated[ProxmoxRuntimeSpec | NixosRuntimeSpec, Field(discriminator="kind")]


class GarageStorageSpec(Spec):
    """A Garage cluster: S3 for data, the admin API for buckets and keys."""

    kind: Literal["garage"]
    s3_endpoint: HttpUrl
    """S3 API endpoint, e.g. 'https://127.0.0.1:3900'."""
    admin_endpoint: HttpUrl
    """Admin API endpoint, e.g. 'https://127.0.0.1:3903'."""
    admin_token: SecretRef
    """Admin API bearer token, as a reference."""
    region: str = "garage"
    """S3 region name configured in Garage."""
    public_url: str | None = None
    """Where browsers fetch an app's public media: a URL with `{bucket}`, e.g. Garage's
    website endpoint 'https://{bucket}.web.example.org' or a CDN. Without it, media URLs
    point at the S3 endpoint, which Garage does not serve to anonymous readers."""

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        rest = value.replace("{bucket}", "", 1)
        if (
            not re.fullmatch(r"https?://\S+", value)
            or "{bucket}" not in value
            or any(c in rest for c in "{}")
            or value.endswith("/")
        ):
            raise ValueError(
                "expected a URL with {bucket} once and no trailing slash, "
                "e.g. 'https://{bucket}.web.example.org'"
            )
        return value

    def media_url(self, bucket: str) -> str:
        """The public base URL of a bucket's objects."""
        if self.public_url is not None:
            return self.public_url.replace("{bucket}", bucket)
        return f"{self.s3_endpoint.rstrip('/')}/{bucket}"

    ca_file: str | None = None
    """CA certificate for the endpoints' TLS, if not in the system store."""
    fingerprint: Fingerprint | None = None
    """SHA-256 fingerprint of the endpoints' TLS certificate (AA:BB:…), instead of ca_file."""

    @model_validator(mode="after")
    def _one_trust_anchor(self) -> GarageStorageSpec:
        if self.ca_file is not None and self.fingerprint is not None:
            raise ValueError("give ca_file or fingerprint, not both")
        return self


StorageSpec = Annotated[GarageStorageSpec, Field(discriminator="kind")]


class OperatorSpecBase(Spec):
    """A customer of the provider running one or more applications."""

    name: str = Field(min_length=1, max_length=200)
    """Display name."""
    email: EmailAddress
    """Contact e-mail of the operator."""
    domain: DomainName
    """The operator's domain; apps default to '<app>.<domain>'."""
    runtime: str
    """Name of the runtime (a key of [runtimes]) the apps run on."""
    storage: str
    """Name of the storage (a key of [storage]) for the apps' objects."""


class AppsBase(Spec):
    """The applications of one operator; fields are added per installed application."""

    def items(self) -> list[tuple[str, AppOptions]]:
        return [
            (name, value)
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), AppOptions)
        ]


class StateSpecBase(Spec):
    """The whole fedi.toml."""

    schema_: int = Field(alias="schema", ge=1)
    """Version of the file format."""
    provider: ProviderSpec
    runtimes: dict[Identifier, RuntimeSpec] = Field(default_factory=dict)
    storage: dict[Identifier, StorageSpec] = Field(default_factory=dict)
