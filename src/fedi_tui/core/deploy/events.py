"""What the apply engine reports: frozen events, one stream for every consumer.

The CLI prints them, the log writer stores them as JSON lines
(`.fedi/deployments/<id>.jsonl`), the TUI wraps them in Textual messages. An
event never holds a secret: the engine redacts every known secret value from
text before it makes an event.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

Level = Literal["debug", "info", "warning", "error"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error")

StepOutcome = Literal[
    "done", "failed", "skipped", "interrupted", "rolled-back", "lost-contact", "preflight-ok"
]
"""How a step ended. `rolled-back`: its machine was switched back to the previous
configuration; `lost-contact`: the machine reverted by itself after fedi-tui lost contact."""
MachineState = Literal[
    "waiting",
    "provisioning",
    "pushing",
    "preflight",
    "activating",
    "checking",
    "removing",
    "done",
    "failed",
    "rolled-back",
    "skipped",
    "interrupted",
]
RunOutcome = Literal["succeeded", "failed", "rolled-back", "interrupted", "preflight-ok"]
LineStream = Literal["stdout", "stderr", "task", "info"]
"""Where a log line came from: a remote command's stdout/stderr, a hypervisor task log,
or fedi-tui itself."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """Every event: which deployment, when (seconds since the epoch)."""

    TYPES: ClassVar[dict[str, type[Event]]] = {}

    deployment: str
    at: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Event.TYPES[cls.__name__] = cls

    @property
    def level(self) -> Level:
        return "info"

    @property
    def machine(self) -> str | None:
        return None

    def to_json(self) -> str:
        data = {"type": type(self).__name__, **dataclasses.asdict(self)}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    user: str
    """`user@host` of who started the run."""
    state_file: str
    summary: str
    """The plan's summary line: '2 to create, 1 to change, 0 to destroy'."""
    machines: tuple[str, ...]
    steps: int
    preflight_only: bool = False
    pid: int = 0
    """The process running the deployment (for `logs --follow` from elsewhere)."""
    sandbox: bool = False
    """The state file is a sandbox's (`provider.sandbox`): the log says so at its start."""


@dataclass(frozen=True, kw_only=True)
class StepEvent(Event):
    """An event of one step; `target_machine` is the machine whose lane it runs in."""

    step: str
    target_machine: str | None = None

    @property
    def machine(self) -> str | None:
        return self.target_machine


@dataclass(frozen=True, kw_only=True)
class StepStarted(StepEvent):
    description: str


@dataclass(frozen=True, kw_only=True)
class StepPhase(StepEvent):
    """A long step moved on: 'preflight build', 'switching', 'checking https://…'."""

    phase: str
    state: MachineState


@dataclass(frozen=True, kw_only=True)
class LogLine(StepEvent):
    stream: LineStream
    text: str

    @property
    def level(self) -> Level:
        return "debug" if self.stream in ("stdout", "task") else "info"


@dataclass(frozen=True, kw_only=True)
class StepFinished(StepEvent):
    outcome: StepOutcome
    message: str = ""
    seconds: float = 0.0

    @property
    def level(self) -> Level:
        if self.outcome in ("failed", "lost-contact"):
            return "error"
        if self.outcome in ("rolled-back", "skipped", "interrupted"):
            return "warning"
        return "info"


@dataclass(frozen=True, kw_only=True)
class MachineFinished(Event):
    name: str
    state: MachineState
    message: str = ""
    config_hash: str | None = None
    """Hash of the configuration the machine runs now (as recorded)."""

    @property
    def machine(self) -> str | None:
        return self.name

    @property
    def level(self) -> Level:
        if self.state == "failed":
            return "error"
        return "warning" if self.state in ("rolled-back", "skipped", "interrupted") else "info"


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    outcome: RunOutcome
    machines: Mapping[str, MachineState] = field(default_factory=dict)
    message: str = ""

    @property
    def level(self) -> Level:
        return {"failed": "error", "rolled-back": "warning", "interrupted": "warning"}.get(
            self.outcome, "info"
        )  # type: ignore[return-value]


TransferPart = Literal["database", "objects", "secrets", "configuration"]


@dataclass(frozen=True, kw_only=True)
class TransferProgress(StepEvent):
    """Data moved so far by a backup, restore or migration step (emitted every so often and
    once at the end, `final`). `what` names the database or bucket; totals are 0 when not
    known in advance (a database dump's size)."""

    part: TransferPart
    what: str
    bytes: int
    objects: int = 0
    total_bytes: int = 0
    total_objects: int = 0
    skipped: int = 0
    """Objects left out because they were verified before (a resumed copy)."""
    seconds: float = 0.0
    final: bool = False

    @property
    def level(self) -> Level:
        return "info" if self.final else "debug"

    @property
    def bytes_per_second(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else 0.0


EventSink = Callable[[Event], None]
"""A consumer of events. It must not block: the TUI posts a message, the log writer
appends a line."""


def event_from_json(line: str) -> Event:
    """Read back one line of a deployment log (ValueError if it is not one)."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not an event object")
    kind = data.pop("type", None)
    cls = Event.TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    for name, f in cls.__dataclass_fields__.items():
        if name in data and isinstance(data[name], list) and "tuple" in str(f.type):
            data[name] = tuple(data[name])
    return cls(**data)
