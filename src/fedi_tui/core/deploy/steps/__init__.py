"""The step handlers: one per step kind, each executing it and saying what it records."""

from __future__ import annotations

from fedi_tui.core.deploy.plan import StepKind
from fedi_tui.core.deploy.steps.activate import Activate
from fedi_tui.core.deploy.steps.base import Handler
from fedi_tui.core.deploy.steps.clear import ClearConfig
from fedi_tui.core.deploy.steps.health import HealthCheck
from fedi_tui.core.deploy.steps.push import PushConfig
from fedi_tui.core.deploy.steps.secrets import GenerateSecrets
from fedi_tui.core.deploy.steps.storage import (
    CreateBucket,
    CreateKey,
    DeleteBucket,
    RevokeKey,
    SetQuota,
)
from fedi_tui.core.deploy.steps.vm import CreateVm, DestroyVm, ResizeVm, StopVm

_ALL: tuple[Handler, ...] = (
    CreateVm(),
    ResizeVm(),
    CreateBucket(),
    SetQuota(),
    CreateKey(),
    GenerateSecrets(),
    PushConfig(),
    Activate(),
    HealthCheck(),
    ClearConfig(),
    StopVm(),
    DestroyVm(),
    RevokeKey(),
    DeleteBucket(),
)

HANDLERS: dict[StepKind, Handler] = {kind: h for h in _ALL for kind in h.kinds}
"""Step kind → its handler."""


def handler_for(kind: StepKind) -> Handler:
    return HANDLERS[kind]
