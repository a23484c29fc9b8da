"""Nix preview: the rendered configuration.nix of a chosen machine, highlighted, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, TextArea

from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.recorded import load_recorded
from fedi_tui.core.deploy.render import module_files, render_machine
from fedi_tui.core.errors import FediError
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.state.statedir import state_dir
from fedi_tui.core.text import visible_line
from fedi_tui.tui.screens.base import AreaScreen
from fedi_tui.tui.widgets.filtertable import FilterTable


@dataclass(frozen=True)
class Machines:
    """What the preview needs, computed in a job: the placed machines and the module files."""

    loaded: LoadedState
    machines: dict[str, Machine]
    modules: dict[str, str]
    deploy_keys: dict[str, str]


def place_machines(loaded: LoadedState) -> Machines:
    recorded = load_recorded(state_dir(loaded.path, loaded.spec))
    config = map_resources(loaded.spec, recorded)
    modules = module_files(nix_modules_dir())
    keys = read_deploy_keys(loaded.spec, loaded.path, (m.runtime for m in config.machines))
    return Machines(loaded, {m.name: m for m in config.machines}, modules, keys)


def nix_text_area() -> TextArea:
    """A read-only TextArea that highlights Nix with tree-sitter-nix."""
    area = TextArea(read_only=True, show_line_numbers=True, soft_wrap=False, id="nix-text")
    try:
        import tree_sitter_nix
        from tree_sitter import Language

        query = (resources.files("tree_sitter_nix") / "queries" / "highlights.scm").read_text()
        area.register_language("nix", Language(tree_sitter_nix.language()), query)
        area.language = "nix"
    except (ImportError, OSError):  # highlighting is a nicety; the text is what matters
        pass
    return area


class NixScreen(AreaScreen):
    AREA = "nix"
    CSS_PATH = "nixpreview.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.placed: Machines | None = None

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="nix-body"):
            with Vertical(id="nix-list"):
                yield FilterTable(("machine",), id="machines")
            with Vertical(id="nix-view"):
                yield Static("configuration.nix", id="nix-title")
                yield nix_text_area()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(FilterTable).focus_table()

    def show_state(self, loaded: LoadedState) -> None:
        self.query_one("#nix-title", Static).update("placing machines …")
        self.fedi.start_job(
            lambda: place_machines(loaded), name="place machines", group="nix", done=self._placed
        )

    def _placed(self, placed: Machines) -> None:
        self.placed = placed
        rows = [(name, (name,)) for name in placed.machines]
        self.query_one(FilterTable).set_rows(rows)
        if not rows:
            self.query_one("#nix-title", Static).update(
                "no machines: no operator has an app enabled"
            )

    def select_entry(self, key: str) -> None:
        self.query_one(FilterTable).select(key)

    @on(FilterTable.Highlighted)
    def _show(self, event: FilterTable.Highlighted) -> None:
        placed = self.placed
        if placed is None or event.key not in placed.machines:
            return
        machine = placed.machines[event.key]
        try:
            rendered = render_machine(
                placed.loaded.spec,
                machine,
                placed.modules,
                deploy_key=placed.deploy_keys[machine.runtime],
            )
        except FediError as exc:
            self.query_one("#nix-title", Static).update(escape(visible_line(str(exc))))
            self.query_one(TextArea).load_text("")
            return
        where = f"{machine.runtime}" + (f"/{machine.node}" if machine.node else "")
        apps = ", ".join(a.module.name for a in machine.apps)
        self.query_one("#nix-title", Static).update(
            f"[b]{machine.name}[/b] · {rendered.hash[:12]} · on {where}: {apps}"
        )
        self.query_one(TextArea).load_text(rendered.files["configuration.nix"])
