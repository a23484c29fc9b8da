"""A Workspace owns one loaded state: the file, its records, and what is derived from them.

Everything that needs "load + map + render" goes through here, so it happens
once per change: the CLI commands, the apply engine and the TUI all hold a
Workspace and ask it for the configuration, the rendered machines or a plan.
A Workspace is immutable; a new recorded state or a reloaded file gives a new
one (`with_recorded`, `open`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path

from fedi_tui.core.deploy.configuration import Configuration
from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.observed import ObservedFacts
from fedi_tui.core.deploy.pipeline import Planned, plan_from
from fedi_tui.core.deploy.recorded import RecordedState, load_recorded
from fedi_tui.core.deploy.render import RenderedMachine, module_files, render_all
from fedi_tui.core.errors import FediError
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import LoadedState, load_state
from fedi_tui.core.state.model import StateSpec
from fedi_tui.core.state.statedir import state_dir


@cache
def shipped_modules() -> Mapping[str, str]:
    """The fediversity NixOS module files shipped with fedi-tui, read once per process."""
    return module_files(nix_modules_dir())


@dataclass(frozen=True)
class Workspace:
    """One loaded state file with its state directory and recorded state."""

    loaded: LoadedState
    recorded: RecordedState
    facts: ObservedFacts | None = None
    """Observed capacity (`plan --facts/--live`) used instead of the declared one."""
    modules: Mapping[str, str] = field(default_factory=shipped_modules)
    held: bool = False
    """Render the apps held (`fediversity.<app>.holdServices`): installed, not started.
    A migration target is deployed held until its data is in (`migrate` phases 1-6)."""

    @classmethod
    def open(cls, path: Path, *, facts: ObservedFacts | None = None) -> Workspace:
        """Load the state file and its recorded state (FediError when either is unusable)."""
        loaded = load_state(path)
        return cls.from_loaded(loaded, facts=facts)

    @classmethod
    def from_loaded(cls, loaded: LoadedState, *, facts: ObservedFacts | None = None) -> Workspace:
        return cls(loaded, load_recorded(state_dir(loaded.path, loaded.spec)), facts)

    @property
    def path(self) -> Path:
        return self.loaded.path

    @property
    def spec(self) -> StateSpec:
        return self.loaded.spec

    @cached_property
    def state_dir(self) -> Path:
        return state_dir(self.loaded.path, self.loaded.spec)

    @cached_property
    def config(self) -> Configuration:
        """The resource mapping of the whole state (PlacementError if it cannot be placed)."""
        return map_resources(self.spec, self.recorded, self.facts)

    @cached_property
    def deploy_keys(self) -> Mapping[str, str]:
        """fedi-tui's deploy key (`<ssh.key>.pub`) of each runtime that has machines
        (FediError naming the runtime and the file when one is missing or not a key)."""
        return read_deploy_keys(self.spec, self.path, (m.runtime for m in self.config.machines))

    @cached_property
    def rendered(self) -> Mapping[str, RenderedMachine]:
        """Every machine's rendered files, by machine name."""
        return render_all(self.spec, self.config, self.modules, self.deploy_keys, held=self.held)

    def with_recorded(self, recorded: RecordedState) -> Workspace:
        """The same state file with a new recorded state (derived values recomputed)."""
        return replace(self, recorded=recorded)

    def with_loaded(self, loaded: LoadedState) -> Workspace:
        """Another version of the state file (e.g. with edits not saved yet), same records."""
        return replace(self, loaded=loaded)

    def with_held(self, held: bool) -> Workspace:
        """The same state rendered with the apps held or not (see `held`)."""
        return replace(self, held=held)

    def with_facts(self, facts: ObservedFacts | None) -> Workspace:
        return replace(self, facts=facts)

    def check_operator(self, operator: str | None) -> None:
        """Refuse an --operator that names no operator."""
        if operator is not None and operator not in self.spec.operators:
            known = ", ".join(self.spec.operators) or "none"
            raise FediError(f"--operator {operator}: no such operator; known: {known}")

    def plan(self, *, operator: str | None = None, prune_data: bool = False) -> Planned:
        """What applying would change: for the whole provider or one operator."""
        self.check_operator(operator)
        return plan_from(
            self.config, self.rendered, self.recorded, operator=operator, prune_data=prune_data
        )
