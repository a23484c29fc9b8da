"""Generate a large fedi.toml: 20 Proxmox nodes, 500 operators, 1,500 app instances.

    python tests/bench/gen_large_state.py OUT.toml

Used by the benchmarks and by tests that need scale; deterministic output.
"""

from __future__ import annotations

import sys
from pathlib import Path

APPS = ("mastodon", "peertube", "pixelfed")
SIZES = ("tiny", "small", "medium", "large")
NODES = 20
OPERATORS = 500


def large_state_text(operators: int = OPERATORS, nodes: int = NODES) -> str:
    out = [
        "# Large generated state: fedi-tui benchmarks and scale tests.",
        "schema = 1",
        "",
        "[provider]",
        'name = "Big Hosting"',
        'domain = "big-hosting.test"',
        'contact = "noc@big-hosting.test"',
        "",
    ]
    half = nodes // 2
    for cluster, node_ids in (("pve-a", range(half)), ("pve-b", range(half, nodes))):
        third = 50 if cluster == "pve-a" else 51
        out += [
            f"# Proxmox cluster {cluster}",
            f"[runtimes.{cluster}]",
            'kind = "proxmox"',
            f'api = "https://127.0.0.{1 if cluster == "pve-a" else 3}:8006"',
            'token_id = "root@pam!fedi"',
            f'token = {{ env = "PVE_TOKEN_{cluster.upper().replace("-", "_")}" }}',
            "template = 9000",
            'placement = "vm-per-app"',
            f'network = {{ cidr = "127.{third}.0.0/16", gateway = "127.{third}.0.1", '
            f'pool = "127.{third}.1.1-127.{third}.250.250" }}',
            'ssh = { user = "root", key = "~/.ssh/fedi_ed25519" }',
            "",
            f"[runtimes.{cluster}.nodes]",
        ]
        out += [
            f"pve{n + 1:02d} = {{ cores = 128, memory_gib = 1024, disk_gib = 8000 }}"
            for n in node_ids
        ]
        out.append("")
    out += [
        "[storage.garage-a]",
        'kind = "garage"',
        's3_endpoint = "https://127.0.0.1:3900"',
        'admin_endpoint = "https://127.0.0.1:3903"',
        'admin_token = { env = "GARAGE_ADMIN_TOKEN" }',
        "",
    ]
    for i in range(operators):
        op = f"op{i:03d}"
        out += [
            f"# customer {i}",
            f"[operators.{op}]",
            f'name = "Operator {i}"',
            f'email = "admin@{op}.test"',
            f'domain = "{op}.test"',
            f'runtime = "{"pve-a" if i % 2 == 0 else "pve-b"}"',
            'storage = "garage-a"',
            "",
        ]
        for n, app in enumerate(APPS):
            out += [
                f"[operators.{op}.apps.{app}]",
                "enable = true",
                f'size = "{SIZES[(i + n) % 4]}"',
                f'admin = {{ username = "admin", email = "admin@{op}.test" }}',
                f'site_title = "{app.title()} of operator {i}"',
                "",
            ]
    return "\n".join(out)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(large_state_text(), encoding="utf-8")
