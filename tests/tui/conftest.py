"""TUI test fixtures: the real app from the sample configs, with no cursor blink.

The app is built by `fedi_tui.tui.factory.build_app`, the same factory the CLI
uses, with the same adapters wired in. fakepve's fixtures come from its pytest
plugin; the sshd ones are re-registered here from tests/fixtures.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from fedi_tui.adapters.prober import NetworkProber
from fedi_tui.cli.wiring import build_ports
from fedi_tui.tui.app import FediApp
from fedi_tui.tui.factory import build_app
from tests.fixtures.garage import garage, garage_factory
from tests.fixtures.s3 import moto_factory
from tests.fixtures.sshd import sshd_host, sshd_module_factory

__all__ = ["garage", "garage_factory", "moto_factory", "sshd_host", "sshd_module_factory"]

AppFactory = Callable[..., FediApp]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (no async plugin is installed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots depend on timing."""
    for widget in (Input, TextArea):
        monkeypatch.setattr(widget.cursor_blink, "_default", False)


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    """The known_hosts file the app's connection tests read (absent unless a test writes it)."""
    return tmp_path / "known_hosts"


@pytest.fixture
def make_app(known_hosts: Path) -> AppFactory:
    """`make_app(path, **options)`: the real app on a state file, wired as the CLI wires it
    (the network prober, with a known_hosts file of the test's own; the CLI's ports for
    deployments); theme not stored."""

    def make(path: Path, **options: Any) -> FediApp:
        options.setdefault("remember_theme", False)
        options.setdefault("prober", NetworkProber(known_hosts=known_hosts))
        options.setdefault("ports", build_ports)
        return build_app(path, **options)

    return make
