"""Generate the secrets applications need. Values live only in memory and in owner-only files."""

from __future__ import annotations

import base64
import secrets

from pydantic import SecretStr

from fedi_tui.core.apps.base import Requirements, SecretNeed


def random_hex(nbytes: int = 32) -> str:
    return secrets.token_hex(nbytes)


def generate_secret(need: SecretNeed, s3_key_id: str, s3_secret: SecretStr) -> SecretStr:
    """Content of one secret file. S3 credentials come from the storage's key for the app."""
    if need.kind == "random":
        return SecretStr(random_hex(32) + "\n")
    s3 = f"AWS_ACCESS_KEY_ID={s3_key_id}\nAWS_SECRET_ACCESS_KEY={s3_secret.get_secret_value()}\n"
    if need.kind == "s3-env":
        return SecretStr(s3)
    values = "".join(
        f"{name}=base64:{base64.b64encode(secrets.token_bytes(32)).decode()}\n"
        for name in need.variables
    )
    return SecretStr(values + s3)


def generate_all(req: Requirements, s3_key_id: str, s3_secret: SecretStr) -> dict[str, SecretStr]:
    """Every secret file of one app instance, by file name."""
    return {need.name: generate_secret(need, s3_key_id, s3_secret) for need in req.secrets}
