"""Nix preview: the rendered configuration.nix of a chosen machine, highlighted, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, TextArea

from fedi_tui.core.deploy.configuration import Machine
from fedi_tui.core.deploy.render import render_machine
from fedi_tui.core.errors import FediError
from fedi_tui.core.state.file import LoadedState
from fedi_tui.core.text import visible_line
from fedi_tui.core.workspace import Workspace
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
    workspace = Workspace.from_loaded(loaded)
    machines = {m.name: m for m in workspace.config.machines}
    return Machines(loaded, machines, dict(workspace.modules), dict(workspace.deploy_keys))


class NixView(TextArea):
    """A read-only viewer: j/k and the arrows scroll it (as in `less`), g/G go to the ends."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
        Binding("space,pagedown", "page(1)", "Page down", show=False),
        Binding("b,pageup", "page(-1)", "Page up", show=False),
        Binding("g,home", "to_end(False)", "Top", show=False),
        Binding("G,end", "to_end(True)", "Bottom", show=False),
    ]

    def action_scroll(self, lines: int) -> None:
        self.scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        self.scroll_relative(
            y=pages * max(1, self.scrollable_content_region.height - 1), animate=False
        )

    def action_to_end(self, bottom: bool) -> None:
        if bottom:
            self.scroll_end(animate=False)
        else:
            self.scroll_home(animate=False)


def nix_text_area() -> NixView:
    """The read-only viewer, highlighting Nix with tree-sitter-nix; long lines wrap."""
    area = NixView(read_only=True, show_line_numbers=True, soft_wrap=True, id="nix-text")
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

    @on(FilterTable.Chosen)
    def _read(self) -> None:
        """Enter on a machine: into its configuration (Esc comes back to the list)."""
        self.query_one(NixView).focus()

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
        except FediError as exc:  # e.g. a configuration that would lock fedi-tui out
            self.query_one("#nix-title", Static).update(escape(visible_line(str(exc))))
            self.query_one(NixView).load_text("")
            return
        where = f"{machine.runtime}" + (f"/{machine.node}" if machine.node else "")
        apps = ", ".join(a.module.name for a in machine.apps)
        self.query_one("#nix-title", Static).update(
            f"[b]{machine.name}[/b] · {rendered.hash[:12]} · on {where}: {apps}"
        )
        self.query_one(NixView).load_text(rendered.files["configuration.nix"])
