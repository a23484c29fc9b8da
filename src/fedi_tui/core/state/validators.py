"""Reusable annotated types for names people type into fedi.toml and forms."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _domain(value: str) -> str:
    name = value.rstrip(".")
    if name != name.lower():
        raise ValueError(f"domain names are written in lower case: {name.lower()!r}")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise ValueError(
            "expected a domain name like 'social.example.org' "
            "(letters, digits and '-', at least two labels)"
        )
    return name


def _email(value: str) -> str:
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError("expected an e-mail address like 'admin@example.org'")
    _domain(value.rsplit("@", 1)[1].lower())
    return value


def _https(value: str) -> str:
    if not re.match(r"^https://[^\s/?#]+(:\d{1,5})?(/[^\s]*)?$", value):
        raise ValueError("expected an https:// URL, e.g. 'https://127.0.0.1:8006'")
    return value.rstrip("/")


def _http(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+(:\d{1,5})?(/[^\s]*)?$", value):
        raise ValueError("expected an http(s):// URL, e.g. 'https://127.0.0.1:3900'")
    return value.rstrip("/")


DomainName = Annotated[str, AfterValidator(_domain)]
EmailAddress = Annotated[str, AfterValidator(_email)]
HttpsUrl = Annotated[str, AfterValidator(_https)]
HttpUrl = Annotated[str, AfterValidator(_http)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
"""Lower-case name used in host names and file names: letters, digits, '-'."""
Username = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,29}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
