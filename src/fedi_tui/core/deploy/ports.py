"""Ports: what the apply engine needs from the outside world, as `typing.Protocol`s.

Adapters (`fedi_tui.adapters.*`) implement them; the CLI's composition root
(`fedi_tui.cli.wiring`) builds them from the state file and hands them to the
engine and to the TUI. Nothing here does I/O. Every failure an implementation
reports is a `FediError` whose message names the machine, runtime or storage
and says what to do; no message ever holds a secret value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import SecretStr

from fedi_tui.core.deploy.observed import ObservedRuntime
from fedi_tui.core.errors import FediError
from fedi_tui.core.portability.ports import BucketObjects, ByteSink, ByteSource

Stream = Literal["stdout", "stderr"]
LineSink = Callable[[Stream, str], None]
"""Receives each line of a remote command's output as it arrives (no line ending)."""


# --- machines (SSH) ---------------------------------------------------------------


@dataclass(frozen=True)
class MachineEndpoint:
    """Where and how to log in to one machine."""

    name: str
    """The machine's name in the configuration (for messages)."""
    host: str
    port: int
    user: str
    key_path: str
    """Private key file fedi-tui logs in with (`~` expands)."""
    host_key: str | None
    """Pinned host key (`ssh-ed25519 AAAA…`); else the known_hosts file decides."""
    known_hosts: str
    """fedi-tui's known_hosts file (in the state directory)."""
    connect_timeout: float = 10.0


class MachineShell(Protocol):
    """One logged-in connection to a machine."""

    target: str
    """`user@host:port`, as messages name it."""

    async def run(
        self, argv: Sequence[str], *, on_line: LineSink | None = None, check: bool = True
    ) -> int:
        """Run a command (an argument vector, never a shell string), streaming its output.

        Returns the exit status (minus the signal number when killed). With
        `check`, a non-zero status raises FediError with the last lines of
        stderr. Cancelling stops the remote command.
        """
        ...

    async def stream_out(
        self, argv: Sequence[str], sink: ByteSink, *, on_line: LineSink | None = None
    ) -> int:
        """Run a command and hand its stdout, as raw bytes, to `sink` as it arrives.

        stderr lines go to `on_line` (as "stderr"). A non-zero exit raises FediError with
        the last lines of stderr; cancelling (or `sink` raising) stops the remote command.
        Returns the number of bytes received.
        """
        ...

    async def stream_in(
        self, argv: Sequence[str], source: ByteSource, *, on_line: LineSink | None = None
    ) -> int:
        """Run a command feeding its stdin from `source` (EOF when `source` ends).

        Its stdout and stderr lines go to `on_line`. A non-zero exit raises FediError with
        the last lines of stderr; cancelling (or `source` raising) stops the remote command.
        Returns the number of bytes sent.
        """
        ...

    async def put_file(self, path: str, data: bytes, *, mode: int = 0o600) -> None:
        """Write a file atomically with `mode` set before any content is written."""
        ...

    async def push_tree(
        self, files: Mapping[str, str], remote_dir: str, *, mode: int = 0o600
    ) -> object:
        """Make `remote_dir` hold exactly `files` (relative path → text), atomically per file.

        Refuses a directory that holds files fedi-tui did not put there.
        """
        ...

    async def remove_tree(self, remote_dir: str) -> bool:
        """Remove a directory fedi-tui manages (it holds fedi-tui's marker); False if absent.

        Refuses a directory without the marker.
        """
        ...

    async def close(self) -> None: ...


class MachineConnector(Protocol):
    """Opens SSH connections; each call is a new connection (the lock-out guard needs that)."""

    async def connect(self, endpoint: MachineEndpoint) -> MachineShell: ...


# --- object storage (Garage admin API + S3) ----------------------------------------


@dataclass(frozen=True)
class StorageHealth:
    """What the storage cluster reports about itself."""

    healthy: bool
    status: str
    """The cluster's own word for it ('healthy', 'degraded', 'unavailable')."""
    nodes_up: int
    nodes: int
    partitions_ok: int
    """Partitions whose every storage node is reachable."""
    partitions: int
    partitions_quorum: int = 0
    """Partitions with a write quorum: reads and writes work there (degraded is still usable)."""


@dataclass(frozen=True)
class StorageBucket:
    id: str
    name: str
    """Its global alias."""
    created: bool
    """Made by this call (False: it existed already)."""


@dataclass(frozen=True)
class StorageKey:
    access_key_id: str
    name: str
    secret: SecretStr | None
    """The secret access key: known when the key was created or can be read back."""
    created: bool


@dataclass(frozen=True)
class BucketUsage:
    objects: int
    bytes: int
    quota_bytes: int | None


class StorageError(FediError):
    """A storage admin call failed; ``reason`` says how ('missing': the bucket or key is gone)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StorageAdmin(Protocol):
    """Administration of one storage cluster (Garage admin API v2). Idempotent operations."""

    name: str
    """The storage's name in fedi.toml (for messages)."""

    async def health(self) -> StorageHealth: ...

    async def find_bucket(self, name: str) -> StorageBucket | None: ...

    async def ensure_bucket(self, name: str) -> StorageBucket:
        """Find the bucket by global alias, or create it."""
        ...

    async def set_quota(self, bucket_id: str, quota_gib: int) -> None: ...

    async def set_website(self, bucket_id: str, enabled: bool) -> None:
        """Serve (or stop serving) the bucket through the storage's web endpoint."""
        ...

    async def ensure_key(self, name: str) -> StorageKey:
        """Find the access key by name, or create it (the secret is returned when known)."""
        ...

    async def allow(
        self, bucket_id: str, access_key_id: str, *, read: bool, write: bool, owner: bool
    ) -> None:
        """Grant exactly these permissions (and revoke the others) of the key on the bucket."""
        ...

    async def revoke(self, bucket_id: str, access_key_id: str) -> None: ...

    async def delete_key(self, access_key_id: str) -> None: ...

    async def delete_bucket(self, bucket_id: str) -> None: ...

    async def usage(self, bucket_id: str) -> BucketUsage: ...

    async def close(self) -> None: ...


class ObjectStore(Protocol):
    """The S3 data plane of one storage, used with an application's own key."""

    async def verify_key(
        self,
        bucket: str,
        access_key_id: str,
        secret: SecretStr,
        *,
        refused_bucket: str | None = None,
    ) -> None:
        """Prove the key works: put, get and delete a probe object in `bucket`.

        With `refused_bucket`, also prove the key is refused there (it may neither list,
        read nor write it). FediError otherwise; the probe object is removed either way.
        """
        ...

    async def usage(self, bucket: str, access_key_id: str, secret: SecretStr) -> BucketUsage:
        """Objects and bytes in `bucket`, counted by listing it with the key (no quota)."""
        ...

    async def empty_bucket(self, bucket: str, access_key_id: str, secret: SecretStr) -> int:
        """Delete every object and unfinished upload in `bucket` with the key (it needs write).

        Garage deletes only empty buckets: `--prune-data` empties a bucket with its app's
        key, then revokes and deletes the key, then deletes the bucket. Returns how many
        objects were deleted.
        """
        ...

    def bucket(self, bucket: str, access_key_id: str, secret: SecretStr) -> BucketObjects:
        """The data of one bucket, reached with the application's key (no call is made yet)."""
        ...

    async def close(self) -> None: ...


# --- hypervisor (Proxmox VE) ---------------------------------------------------------


@dataclass(frozen=True)
class VmRequest:
    """A VM the configuration wants on a hypervisor.

    What is the same for every VM of a runtime — template, storage, bridge, network
    (prefix length, gateway, name servers), VMID range, cloud-init user and keys —
    comes from the runtime's spec, which the implementation is built with.
    """

    machine: str
    """The machine's name: the VM's name and its machine tag, by which re-runs find it."""
    node: str
    vmid: int
    """The VMID the plan proposed: used when free, else the next free one of the range
    (the VMID used is in the answer)."""
    cores: int
    memory_gib: int
    disk_gib: int
    address: str
    """The address from the runtime's pool (with the network's prefix length applied by the
    adapter) that cloud-init gives the VM."""


@dataclass(frozen=True)
class ObservedVm:
    """What the hypervisor reports about a VM fedi-tui created."""

    vmid: int
    node: str
    running: bool
    address: str | None = None
    """Where to reach it: an address the guest agent reports inside the runtime's network,
    else the one cloud-init was given. Never anything outside the runtime's network."""
    host_key: str | None = None
    """The SSH host key read through the guest agent, when it answers."""
    machine: str | None = None
    """The machine it belongs to, from its machine tag."""
    cores: int | None = None
    memory_gib: float | None = None
    disk_gib: float | None = None
    """Size of the boot disk."""
    created: bool = False
    """This call cloned it (False: it existed and was brought up to date)."""
    restarted: bool = False
    """This call restarted it so that changes take effect."""


class HypervisorError(FediError):
    """A hypervisor call failed; `vmid` and `node` name the VM concerned, when there is one.

    `vm_left`: a VM of fedi-tui's stays behind under `vmid` (half created, or failed while
    changing). It carries fedi-tui's tags, so the next plan finds it and either finishes
    or removes it: record it as failed. Without `vm_left`, a failed create left no VM that
    fedi-tui could find again; in the rare case that an untagged one may remain (the
    cluster refused even its removal), the message says so and how to remove it."""

    def __init__(
        self,
        message: str,
        *,
        vmid: int | None = None,
        node: str | None = None,
        vm_left: bool = False,
    ) -> None:
        super().__init__(message)
        self.vmid = vmid
        self.node = node
        self.vm_left = vm_left


class Hypervisor(Protocol):
    """One Proxmox VE cluster. Implementations limit their own concurrent mutations.

    Only fedi-tui's own guests (tagged by fedi-tui, VMID in the runtime's range) are
    ever changed; any other VMID is refused with a clear error. `on_line` receives the
    progress and the Proxmox task log lines of the call (the caller adds the machine).
    Failures raise `HypervisorError`.
    """

    name: str

    def create_vm(
        self, request: VmRequest, on_line: LineSink | None = None
    ) -> Awaitable[ObservedVm]:
        """Clone, configure, resize and start; idempotent (finds the VM by its tags and
        only brings it up to date). Returns once the VM is started, without waiting for it
        to boot: `guest(…, wait=…)` then reads what its guest agent says."""
        ...

    def reconfigure_vm(
        self, request: VmRequest, on_line: LineSink | None = None
    ) -> Awaitable[ObservedVm]:
        """Change only what differs; grow the disk (never shrink it); restart only when
        Proxmox keeps changes pending until a restart."""
        ...

    def guest(
        self, vmid: int, node: str, *, wait: float = 0.0, on_line: LineSink | None = None
    ) -> Awaitable[ObservedVm]:
        """The VM as it is now; with `wait`, up to that many seconds for its guest agent
        to answer (for its addresses and SSH host key)."""
        ...

    def find_vm(self, machine: str) -> Awaitable[ObservedVm | None]:
        """fedi-tui's VM of that machine, found by its tags."""
        ...

    def list_vms(self) -> Awaitable[list[ObservedVm]]:
        """Every VM of fedi-tui on this cluster (its tag, inside the VMID range), by VMID."""
        ...

    def stop_vm(self, vmid: int, node: str, on_line: LineSink | None = None) -> Awaitable[None]:
        """Shut down (ACPI) with a timeout, then stop hard."""
        ...

    def destroy_vm(self, vmid: int, node: str, on_line: LineSink | None = None) -> Awaitable[None]:
        """Stop, delete with its disks (purge) and confirm it is gone; done if already gone."""
        ...

    def close(self) -> Awaitable[None]: ...


# --- DNS (migration) ------------------------------------------------------------------


class Resolver(Protocol):
    """Asks one DNS resolver: the address the provider configured, nothing else."""

    address: str
    """`ADDR:PORT`, for messages."""

    async def lookup(self, name: str, rtype: str) -> tuple[str, ...]:
        """The answers (addresses) for `name`; () for no such name or no record."""
        ...


async def _nothing_to_close() -> None:
    return None


def _no_resolver(address: str) -> Resolver:
    raise FediError("no DNS client is wired into this run; use `fedi-tui migrate`")


async def _no_capacity(runtime: str) -> ObservedRuntime:
    raise FediError(f"runtime {runtime}: no Proxmox client is wired in to observe it")


@dataclass(frozen=True)
class Ports:
    """Everything the engine may talk to, built by the CLI for one state file.

    `storage`, `objects` and `hypervisors` are keyed by the storage / runtime
    name in fedi.toml; they are made on first use by the factories, so a run
    that needs no Garage never resolves its token.
    """

    machines: MachineConnector
    storage: Callable[[str], StorageAdmin]
    objects: Callable[[str], ObjectStore]
    hypervisors: Callable[[str], Hypervisor]
    close: Callable[[], Awaitable[None]] = field(default=_nothing_to_close)
    """Closes whatever the factories made (the engine's caller awaits it at the end)."""
    resolver: Callable[[str], Resolver] = field(default=_no_resolver)
    """Makes the client of a DNS resolver `ADDR:PORT` (a migration's DNS phase; FediError
    when it is not one)."""
    capacity: Callable[[str], Awaitable[ObservedRuntime]] = field(default=_no_capacity)
    """Observes a Proxmox runtime now, by its name: the capacity per node left for
    fedi-tui's VMs and the VMIDs others use (read-only; FediError naming the runtime when
    it cannot). Apply asks it before placing new VMs (`core.deploy.livefacts`)."""
