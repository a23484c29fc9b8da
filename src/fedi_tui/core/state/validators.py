"""Reusable annotated types for names people type into fedi.toml and forms.

Every pattern must match the whole value: Python's `$` also matches before a
trailing newline, so checks here use `fullmatch` (and the `Field(pattern=…)`
ones are anchored by pydantic's regex engine, where `$` is the end of text);
tests/unit/test_validators.py tries a trailing newline on each.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field

PATTERN_WORDS: dict[str, str] = {}
"""What each `Field(pattern=…)` asks for, in words (errors say this, not the regex)."""


def described(regex: str, words: str) -> str:
    """`regex`, for `Field(pattern=…)`, remembered with the words that explain it."""
    PATTERN_WORDS[regex] = words
    return regex


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_HTTPS = re.compile(r"https://[^\s/?#]+(:\d{1,5})?(/\S*)?")
_HTTP = re.compile(r"https?://[^\s/?#]+(:\d{1,5})?(/\S*)?")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _domain(value: str) -> str:
    name = value.rstrip(".")
    if name != name.lower():
        raise ValueError(f"domain names are written in lower case: {name.lower()!r}")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValueError(
            "expected a domain name like 'social.example.org' "
            "(letters, digits and '-', at least two labels)"
        )
    return name


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value) or len(value) > 254:
        raise ValueError("expected an e-mail address like 'admin@example.org'")
    _domain(value.rsplit("@", 1)[1].lower())
    return value


def _https(value: str) -> str:
    if not _HTTPS.fullmatch(value):
        raise ValueError("expected an https:// URL, e.g. 'https://127.0.0.1:8006'")
    return value.rstrip("/")


def _http(value: str) -> str:
    if not _HTTP.fullmatch(value):
        raise ValueError("expected an http(s):// URL, e.g. 'https://127.0.0.1:3900'")
    return value.rstrip("/")


def _host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.fullmatch(x) for x in labels):
        raise ValueError(
            "expected an IP address like '127.0.0.2' or a host name like 'box1.example.org'"
        )
    return value


DomainName = Annotated[str, AfterValidator(_domain)]
EmailAddress = Annotated[str, AfterValidator(_email)]
HttpsUrl = Annotated[str, AfterValidator(_https)]
HttpUrl = Annotated[str, AfterValidator(_http)]
Identifier = Annotated[
    str,
    Field(
        pattern=described(
            r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$",
            "a name of 2 to 32 lower-case letters, digits and '-', starting with a letter "
            "and not ending with '-' (e.g. 'pve-a')",
        )
    ),
]
"""Lower-case name used in host names and file names: letters, digits, '-'."""
Username = Annotated[
    str,
    Field(
        pattern=described(
            r"^[a-z_][a-z0-9_]{0,29}$",
            "a user name of up to 30 lower-case letters, digits and '_', not starting with "
            "a digit (e.g. 'it_admin')",
        )
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]
HostName = Annotated[str, AfterValidator(_host)]
"""An IP address or a host name (one label is enough: 'localhost', 'box1')."""
