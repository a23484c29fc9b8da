"""Secret references: where a secret comes from, never the secret itself.

In `fedi.toml` a secret is an inline table naming its source:
`{ env = "PVE_TOKEN" }`, `{ file = "~/.config/fedi/pve" }` or
`{ command = "pass show pve" }`. It is resolved only when a connection needs it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from fedi_tui.core.errors import FediError
from fedi_tui.core.state.trust import check_secrets_allowed
from fedi_tui.core.state.validators import described

SECRET_HOWTO = (
    'write a reference instead: { env = "NAME" }, { file = "path" } or '  # noqa: S105
    '{ command = "pass show name" }'
)


class SecretRef(BaseModel):
    """Where to read a secret from: exactly one of env, file or command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Annotated[
        str | None,
        Field(
            pattern=described(
                r"^[A-Za-z_][A-Za-z0-9_]*$",
                "an environment variable name: letters, digits and '_', not starting with a "
                "digit (e.g. 'PVE_TOKEN')",
            )
        ),
    ] = None
    """Name of an environment variable holding the secret."""
    file: str | None = None
    """Path of a file holding the secret (first line, trailing newline removed); `~` expands."""
    command: str | None = None
    """A command whose standard output is the secret, e.g. `pass show pve`."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_plain(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(f"a secret must not be written in the file; {SECRET_HOWTO}")
        if not isinstance(value, dict):
            raise ValueError(f"expected a secret reference; {SECRET_HOWTO}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [k for k in ("env", "file", "command") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of env, file or command (got {len(given)})")
        return self

    @property
    def kind(self) -> Literal["env", "file", "command"]:
        if self.env is not None:
            return "env"
        return "file" if self.file is not None else "command"

    def describe(self) -> str:
        """A description safe to show: the source, never the value."""
        return f"{self.kind} {getattr(self, self.kind)!r}"

    def resolve(self, base_dir: Path | None = None) -> SecretStr:
        """Read the secret now. Errors name the source, never a value.

        `base_dir` is the state file's directory: relative files are found there,
        and a state file there that others could change has its secrets refused
        (UntrustedStateFile, see `core.state.trust`).
        """
        check_secrets_allowed(base_dir)
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise FediError(f"secret {self.describe()}: the variable is not set; export it")
            return SecretStr(value)
        if self.file is not None:
            path = Path(self.file).expanduser()
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise FediError(
                    f"secret {self.describe()}: cannot read {path}: {exc.strerror}"
                ) from None
            return SecretStr(self._text(raw, f"the file {path}").rstrip("\n"))
        assert self.command is not None
        try:
            done = subprocess.run(
                shlex.split(self.command), capture_output=True, timeout=60, check=False
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise FediError(f"secret {self.describe()}: could not run: {exc}") from None
        if done.returncode != 0:
            raise FediError(f"secret {self.describe()}: command exited {done.returncode}")
        return SecretStr(self._text(done.stdout, "the command's output").rstrip("\n"))

    def _text(self, raw: bytes, what: str) -> str:
        """`raw` as UTF-8; an error names the reference and where, never a byte of it."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            kind = "file" if self.file is not None else "command"
            raise FediError(
                f"secret {self.describe()}: {what} is not UTF-8 text; a secret is read as "
                f"text: is it the right {kind}?"
            ) from None
