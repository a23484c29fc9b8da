"""generate-secrets: an app instance's secret files, made once and kept in the state dir."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from fedi_tui.core.deploy.configuration import AppInstance
from fedi_tui.core.deploy.details import SecretsDetail
from fedi_tui.core.deploy.events import MachineState
from fedi_tui.core.deploy.plan import Step, StepKind
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.secretgen import generate_secret
from fedi_tui.core.deploy.secretstore import secret_fragments
from fedi_tui.core.deploy.steps.base import (
    Observed,
    StepContext,
    StepFailed,
    Target,
    machine_lane,
)


def instance_of(desired: Target, key: str) -> AppInstance:
    return next(a for m in desired.config.machines for a in m.apps if a.key == key)


class GenerateSecrets:
    kinds: ClassVar[tuple[StepKind, ...]] = ("generate-secrets",)
    state: ClassVar[MachineState] = "pushing"

    def lane(self, step: Step, desired: Target, recorded: RecordedState) -> str:
        return machine_lane(desired.machine_of_instance(step.target).name)

    async def execute(self, ctx: StepContext) -> Observed:
        instance = instance_of(ctx.desired, ctx.step.target)
        existing = ctx.secrets.app_files(instance.key)
        missing = [n for n in instance.requirements.secrets if n.name not in existing]
        key_id, key_secret = "", SecretStr("")
        if any(n.kind != "random" for n in missing):
            key = ctx.recorded.keys.get(instance.key)
            secret = ctx.secrets.key_secret(instance.key)
            if key is None or key.access_key_id is None or secret is None:
                raise StepFailed(
                    f"{instance.key}: its storage key is not recorded with a secret, so its S3 "
                    "credentials cannot be written; run apply again after the key step succeeds"
                )
            key_id, key_secret = key.access_key_id, secret
        made = {n.name: generate_secret(n, key_id, key_secret) for n in missing}
        for value in made.values():
            for fragment in secret_fragments(value.get_secret_value()):
                ctx.remember_secret(fragment)
        written = ctx.secrets.add_app_files(instance.key, made)
        kept = sorted(existing)
        ctx.log(
            f"{instance.key}: generated {', '.join(written) or 'nothing'}"
            + (f"; kept {', '.join(kept)}" if kept else "")
        )
        return {"files": [n.name for n in instance.requirements.secrets]}

    def record(
        self, recorded: RecordedState, step: Step, desired: Target, observed: Observed
    ) -> RecordedState:
        planned = step.detail.files if isinstance(step.detail, SecretsDetail) else ()
        names = observed.get("files", planned)
        secrets = dict(recorded.secrets)
        secrets[step.target] = tuple(str(n) for n in names)
        return recorded.model_copy(update={"secrets": secrets})
