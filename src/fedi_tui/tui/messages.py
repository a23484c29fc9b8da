"""App-wide messages: facts in the past tense, requests in the imperative.

Screens post requests up to the App, which owns the state file and the jobs;
the App answers by changing its `state` and `probes` attributes, which screens
watch (attributes down, messages up).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the TUI draws its first frame before the core is imported
    from fedi_tui.core.deploy.pipeline import Planned
    from fedi_tui.core.probes import ProbeReport
    from fedi_tui.core.state.file import LoadedState
    from fedi_tui.core.state.tomledit import Edit
    from fedi_tui.core.workspace import Workspace


class SaveEdits(Message):
    """Write these edits to the state file (validated, atomic, conflict-checked)."""

    def __init__(
        self, edits: list[Edit], what: str, then: Callable[[LoadedState], None] | None = None
    ) -> None:
        super().__init__()
        self.edits = edits
        self.what = what
        """For messages: 'mastodon options of coop'."""
        self.then = then
        """Called with the new state once it is written."""


class ReloadState(Message):
    """Read the state file again, dropping unsaved edits."""


class TestConnection(Message):
    """Probe the endpoint of a runtime or storage entry."""

    def __init__(self, section: str, name: str) -> None:
        super().__init__()
        self.section = section
        self.name = name


class PinIdentity(Message):
    """Pin what this test showed (TLS fingerprint or SSH host key) into its entry; the
    person has confirmed it. Refused when the entry changed since the test."""

    def __init__(self, report: ProbeReport) -> None:
        super().__init__()
        self.report = report


class EditsPending(Message):
    """A screen has (or no longer has) edits that are not saved."""

    def __init__(self, source: str, pending: bool) -> None:
        super().__init__()
        self.source = source
        self.pending = pending


class StateSaved(Message):
    """The state file was written."""

    def __init__(self, what: str, loaded: LoadedState) -> None:
        super().__init__()
        self.what = what
        self.loaded = loaded


class DeploymentMessage(Message):
    """About the App's deployment: the App hands every one to its `DeploymentController`."""


class ApplyPlan(DeploymentMessage):
    """Run this plan (the person confirmed it); the App's deployment controller runs it."""

    def __init__(self, workspace: Workspace, planned: Planned) -> None:
        super().__init__()
        self.workspace = workspace
        self.planned = planned


class CancelDeployment(DeploymentMessage):
    """Stop the running deployment, as Ctrl+C stops `fedi-tui apply` (confirmed first)."""


class DeploymentStarted(DeploymentMessage):
    """The App's deployment has its id and log file (the lock is held)."""

    def __init__(self, deployment: str, log_path: Path) -> None:
        super().__init__()
        self.deployment = deployment
        self.log_path = log_path


class DeploymentProgressed(DeploymentMessage):
    """Events of the running deployment are waiting to be taken (one message per batch)."""


class DeploymentEnded(DeploymentMessage):
    """The App's deployment is over (or could not start: then `deployment` is None)."""

    def __init__(self, deployment: str | None, log_path: Path | None) -> None:
        super().__init__()
        self.deployment = deployment
        self.log_path = log_path
