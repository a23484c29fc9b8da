"""The guided set-up of a new operator as a view model: a draft, its steps and checks.

No Textual here. The wizard screen keeps an `OperatorDraft`, asks
`step_problems` before moving on, and saves `draft_edits` only at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fedi_tui.core.apps.base import AppModule
from fedi_tui.core.state.tomledit import Edit
from fedi_tui.core.views.forms import validate_entry

STEPS: tuple[str, ...] = ("apps", "domain", "admin", "size", "review")
STEP_TITLES = {
    "apps": "Choose applications",
    "domain": "Operator and domain",
    "admin": "Administrator account",
    "size": "Size",
    "review": "Review and save",
}
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "apps": ("apps",),
    "domain": ("operator_id", "name", "email", "domain", "runtime", "storage"),
    "admin": ("admin_username", "admin_email"),
    "size": ("sizes",),
    "review": (),
}
_OPERATOR_KEYS = {"name", "email", "domain", "runtime", "storage"}
_ADMIN_KEYS = {"username": "admin_username", "email": "admin_email"}


@dataclass(frozen=True)
class OperatorDraft:
    """What the person has answered so far (plain values, as typed)."""

    apps: tuple[str, ...] = ()
    operator_id: str = ""
    name: str = ""
    email: str = ""
    domain: str = ""
    runtime: str = ""
    storage: str = ""
    admin_username: str = ""
    admin_email: str = ""
    sizes: Mapping[str, str] = field(default_factory=dict)

    def but(self, **changes: Any) -> OperatorDraft:
        return replace(self, **changes)

    def operator_data(self) -> dict[str, Any]:
        """The `[operators.<id>]` table this draft would add."""
        admin = {"username": self.admin_username.strip(), "email": self.admin_email.strip()}
        return {
            "name": self.name.strip(),
            "email": self.email.strip(),
            "domain": self.domain.strip(),
            "runtime": self.runtime,
            "storage": self.storage,
            "apps": {
                app: {"enable": True, "admin": dict(admin), "size": self.sizes.get(app, "small")}
                for app in self.apps
            },
        }


def start_draft(data: Mapping[str, Any]) -> OperatorDraft:
    """A fresh draft with the first runtime and storage preselected."""
    runtimes = list(data.get("runtimes") or {})
    storage = list(data.get("storage") or {})
    return OperatorDraft(
        runtime=runtimes[0] if runtimes else "", storage=storage[0] if storage else ""
    )


def slug(name: str) -> str:
    """An operator id from a display name: 'Lens & Light Club' → 'lens-light-club'."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    text = text[:32].rstrip("-")
    return text if re.match(r"^[a-z]", text) else (f"op-{text}" if text else "")


def draft_problems(draft: OperatorDraft, data: Mapping[str, Any]) -> dict[str, str]:
    """Every problem of the draft, by draft field (first message per field)."""
    out: dict[str, str] = {}
    if not draft.apps:
        out["apps"] = "choose at least one application (space toggles it)"
    op_id = draft.operator_id.strip()
    if not op_id:
        out["operator_id"] = "required: a short id such as 'coop' (used in machine names)"
    elif op_id in (data.get("operators") or {}):
        out["operator_id"] = f"an operator {op_id!r} exists already; choose another id"
    for path, message in validate_entry(data, "operators", op_id or "x", draft.operator_data()):
        name = _draft_field(path)
        if name and name not in out:
            out[name] = _explain(name, message)
    return out


def step_problems(draft: OperatorDraft, data: Mapping[str, Any], step: str) -> dict[str, str]:
    """The problems that block leaving `step` ("next")."""
    problems = draft_problems(draft, data)
    wanted = STEP_FIELDS[step] if step != "review" else tuple(problems)
    return {k: v for k, v in problems.items() if k in wanted}


def _draft_field(path: tuple[str | int, ...]) -> str | None:
    if not path:
        return "operator_id"
    if len(path) == 1 and path[0] in _OPERATOR_KEYS:
        return str(path[0])
    if len(path) >= 3 and path[0] == "apps":
        rest = path[2:]
        if rest[:1] == ("admin",):
            return _ADMIN_KEYS.get(str(rest[1]), "admin_username") if len(rest) > 1 else None
        if rest[:1] == ("size",):
            return "sizes"
    return None


_HELP = {
    "operator_id": "lower-case letters, digits and '-', starting with a letter (e.g. 'coop')",
    "admin_username": "lower-case letters, digits and '_', up to 30 characters (e.g. 'alice')",
}


def _explain(name: str, message: str) -> str:
    if message.startswith("string should match pattern"):
        return f"not accepted: {_HELP.get(name, 'check the format')}"
    if message.startswith("string should have at least 1 character"):
        return "required: please fill this in"
    return message


def draft_edits(draft: OperatorDraft) -> list[Edit]:
    return [Edit(("operators", draft.operator_id.strip()), draft.operator_data())]


def size_label(module: AppModule, size: str) -> str:
    p = module.sizes[size]  # type: ignore[index]
    return (
        f"{size}: up to {p.users:,} users — {p.cores} cores, {p.memory_gib} GiB memory, "
        f"{p.disk_gib} GiB disk, {p.s3_quota_gib} GiB storage"
    )
