"""Observing Proxmox before an apply from the Deployments area, as `fedi-tui apply` does.

A plan that places VMs is made again from what the runtimes report now. The observation
runs as an App job (a thread: the adapters behind the ports the CLI wired make HTTP calls)
and says how far it got per runtime; when it ends, the plan made from what was observed is
shown and asked about. A runtime that cannot be observed stops it there, with the reason.

Cancelling does not wait for the thread: its result is dropped when it comes, and the plan
shown before comes back at once. Nothing has been changed anywhere by then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from fedi_tui.core.errors import FediError

if TYPE_CHECKING:
    from textual.worker import Worker

    from fedi_tui.core.views.liveplan import LivePlan, Progress
    from fedi_tui.core.views.planview import PlanView
    from fedi_tui.core.workspace import Workspace
    from fedi_tui.tui.app import FediApp
    from fedi_tui.tui.deployrun import PortsFactory


@dataclass(frozen=True)
class ObserveHooks:
    """What the screen does with what the observation finds (all called on the App)."""

    say: Callable[[str | Text], None]
    """Show the observation's progress or why it stopped, where the plan's summary goes."""
    show_plan: Callable[[PlanView], None]
    ask: Callable[[PlanView, Workspace], None]
    """Ask about the plan made from what was observed (only when it has work to do)."""
    ended: Callable[[], None]
    """The observation is over, one way or another (e.g. redraw the status line)."""
    still_wanted: Callable[[], bool]
    """False when the state or the scope changed meanwhile: the result is moot."""
    may_ask: Callable[[], bool]
    """False while another area or a dialog is in front: then show the plan, do not ask."""


class LiveObservation:
    """One observation of the runtimes a plan places VMs on (see the module docstring)."""

    def __init__(
        self,
        app: FediApp,
        ports: PortsFactory,
        workspace: Workspace,
        runtimes: list[str],
        *,
        operator: str | None,
        shown: PlanView | None,
        hooks: ObserveHooks,
    ) -> None:
        self.app = app
        self.active = True
        self._ports = ports
        self._workspace = workspace
        self._runtimes = runtimes
        self._operator = operator
        self._shown = shown
        self._hooks = hooks
        self._progress: dict[str, Progress] = dict.fromkeys(runtimes, "observing")
        self._worker: Worker[object] | None = None

    def start(self) -> None:
        from fedi_tui.core.views.liveplan import observing_text

        self._hooks.say(observing_text(self._progress))
        self._worker = self.app.start_job(
            self._work,
            name="observe Proxmox",
            group="deploy-observe",
            done=self._done,
            failed=self._failed,
        )

    def cancel(self) -> None:
        """Stop waiting: the plan shown before comes back; the thread's answer is dropped."""
        if not self.active:
            return
        self._end()
        if self._worker is not None:
            self._worker.cancel()
        if self._shown is not None and self._hooks.still_wanted():
            self._hooks.show_plan(self._shown)
        self.app.notify("Observing Proxmox cancelled; nothing was applied.")

    # --- in the job's thread --------------------------------------------------------

    def _work(self) -> LivePlan | FediError:
        from fedi_tui.core.views.liveplan import live_plan

        try:
            return live_plan(
                self._workspace,
                self._ports(self._workspace),
                self._runtimes,
                operator=self._operator,
                seen=self._seen,
            )
        except FediError as exc:
            return exc

    def _seen(self, name: str, result: object) -> None:
        state: Progress = "failed" if isinstance(result, FediError) else "observed"
        with contextlib.suppress(RuntimeError):  # the App has gone meanwhile
            self.app.call_from_thread(self._moved, name, state)

    # --- on the App -------------------------------------------------------------------

    def _moved(self, name: str, state: Progress) -> None:
        from fedi_tui.core.views.liveplan import observing_text

        self._progress[name] = state
        if self.active:
            self._hooks.say(observing_text(self._progress))

    def _end(self) -> bool:
        """Mark it over; True when its result still belongs on the screen."""
        was = self.active
        self.active = False
        self._hooks.ended()
        return was and self._hooks.still_wanted()

    def _done(self, result: LivePlan | FediError) -> None:
        from fedi_tui.core.views.liveplan import unobservable_text

        if not self._end():
            return
        if isinstance(result, FediError):
            self._hooks.say(Text(unobservable_text(result), style="bold"))
            self.app.notify(str(result), title="Proxmox not observed", severity="error", timeout=10)
            return
        self._hooks.show_plan(result.view)
        if not result.view.can_apply:
            self.app.notify("Nothing to apply: " + result.view.summary)
        elif self._hooks.may_ask():
            self._hooks.ask(result.view, result.workspace)

    def _failed(self) -> None:
        if self._end() and self._shown is not None:
            self._hooks.show_plan(self._shown)
