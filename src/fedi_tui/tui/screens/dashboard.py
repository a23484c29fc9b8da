"""Dashboard: the provider at a glance — runtimes, storage, operators and their apps."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from fedi_tui.core.spec import ProxmoxRuntimeSpec
from fedi_tui.core.statefile import LoadedState


class DashboardScreen(Screen[None]):
    """Read-only overview of the state file."""

    def __init__(self, loaded: LoadedState) -> None:
        super().__init__()
        self.loaded = loaded

    def compose(self) -> ComposeResult:
        spec = self.loaded.spec
        yield Header()
        yield Static(
            f"[b]{spec.provider.name}[/b]  {spec.provider.domain}  ·  {spec.provider.contact}",
            id="provider",
        )
        runtimes: DataTable[str] = DataTable(id="runtimes", cursor_type="row")
        runtimes.add_columns("runtime", "kind", "where", "capacity")
        for name, rt in spec.runtimes.items():
            if isinstance(rt, ProxmoxRuntimeSpec):
                cores = sum(n.cores for n in rt.nodes.values())
                mem = sum(n.memory_gib for n in rt.nodes.values())
                runtimes.add_row(
                    name, "proxmox", rt.api, f"{len(rt.nodes)} nodes, {cores} cores, {mem} GiB"
                )
            else:
                runtimes.add_row(name, "nixos", f"{rt.host}:{rt.port}", "one machine")
        for name, st in spec.storage.items():
            runtimes.add_row(name, st.kind, st.s3_endpoint, "S3 + admin API")
        yield runtimes
        operators: DataTable[str] = DataTable(id="operators", cursor_type="row")
        operators.add_columns("operator", "domain", "runtime", "apps")
        for op_id, op in spec.operators.items():
            apps = ", ".join(name for name, a in op.apps.items() if a.enable) or "—"
            operators.add_row(op_id, op.domain, op.runtime, apps)
        yield operators
        yield Footer()
