"""Benchmark: provisioning 20 VMs at once vs one, on fakepve with a non-zero time scale.

    .venv/bin/python -m tests.bench.bench_proxmox

fakepve serves on 127.0.0.1 over HTTPS (its own certificate as the CA), in a process
of its own so that it does not share the client's interpreter lock. The template and
the VM disks are on a Ceph pool that fakepve makes slow, so a clone and a start each
take 0.2 s of wall time (20 PVE seconds at time scale 0.01), as disk copies and boots
dominate on a real cluster. Each create is a full one: clone, configure, grow the disk,
start. Prints the wall times, their ratio (goal: 20 at once within 2x of one), and the
API requests per VM. With the default limit of 4 concurrent changes per cluster the
ratio cannot go below 20 / 4 x (the share of a create spent in changes); a second
line shows the same with a limit of 20.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time

from fakepve import FakePve  # type: ignore[import-untyped]
from fakepve.certs import make_cert  # type: ignore[import-untyped]

from fedi_tui.core.state.spec import ProxmoxRuntimeSpec
from tests.adapters.proxmox_fixtures import (
    ENV,
    GIB,
    TEMPLATE_DISK,
    TOKEN,
    hypervisor,
    runtime,
    vm_request,
)

TIME_SCALE = 0.01
SLOW_CEPH = 20  # PVE seconds added to each clone and start


def serve(cafile: str, keyfile: str) -> None:
    """The server process: a fresh cluster on 127.0.0.1; prints its port, then answers
    each line on stdin with the number of requests it has seen, and stops at EOF."""

    async def main() -> None:
        pve = FakePve(host="127.0.0.1", port=0)
        pve.time_scale = TIME_SCALE
        pve.max_requests = 1_000_000
        pve.apitokens["root@pam!fedi"] = TOKEN
        pve.add_node("pve2")
        pve.add_ceph_storage("ceph-vm")
        pve.storages["ceph-vm"]["volumes"] = {
            "base-9000-disk-0": {"content": "images", "size": 8 * GIB, "vmid": 9000}
        }
        pve.add_vm(
            9000,
            "nixos-template",
            template=True,
            config={
                "scsi0": TEMPLATE_DISK.replace("local-lvm:", "ceph-vm:"),
                "ide2": "ceph-vm:vm-9000-cloudinit,media=cdrom",
                "boot": "order=scsi0",
                "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
            },
        )
        pve.ceph_slow(SLOW_CEPH)
        await pve.start(cafile, keyfile)
        print(pve.port, flush=True)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(len(pve.requests), flush=True)
        await pve.stop()

    asyncio.run(main())


def _ask(proc: subprocess.Popen[str]) -> int:
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None
    stdin.write("count\n")
    stdin.flush()
    return int(stdout.readline())


def provision(cafile: str, keyfile: str, count: int, limit: int) -> tuple[float, int]:
    """Wall time of *count* concurrent creates on a fresh cluster, and the requests made."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_proxmox", "serve", cafile, keyfile],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = f"https://127.0.0.1:{int(proc.stdout.readline())}"
        data = runtime(url, ca_file=cafile).model_dump(mode="json", by_alias=True)
        spec = ProxmoxRuntimeSpec.model_validate(
            data | {"storage": "ceph-vm", "max_mutations": limit}
        )
        client = hypervisor(None, cafile, spec=spec, poll_interval=0.05, retry_delay=0.1)

        async def main() -> None:
            creates = (
                client.create_vm(vm_request(f"op{n:02d}-web", 10000 + n, node=f"pve{n % 2 + 1}"))
                for n in range(count)
            )
            await asyncio.gather(*creates)

        start = time.perf_counter()
        asyncio.run(main())
        elapsed = time.perf_counter() - start
        client.close_now()
        return elapsed, _ask(proc)
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(30)


def main() -> None:
    os.environ[ENV] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        cafile, keyfile, _ = make_cert(tmp, hosts=("127.0.0.1",))
        one = statistics.median(provision(cafile, keyfile, 1, 4)[0] for _ in range(3))
        for limit in (4, 20):
            runs = [provision(cafile, keyfile, 20, limit) for _ in range(3)]
            twenty = statistics.median(t for t, _ in runs)
            calls = statistics.median(n for _, n in runs) / 20
            print(
                f"max_mutations {limit:2d}: 1 VM {one:5.2f} s, 20 VMs at once {twenty:5.2f} s, "
                f"ratio {twenty / one:4.1f}x (goal <= 2x), {calls:.1f} API requests per VM"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
