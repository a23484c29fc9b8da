"""core/ and adapters/ must not pull in Textual or Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import fedi_tui.adapters
import fedi_tui.core


def _modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [m.name for m in pkgutil.walk_packages(path, prefix)]


def _loaded_after_import(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    """Top-level packages from `roots` that importing `modules` pulls in (fresh interpreter)."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({roots!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


def test_core_and_adapters_do_not_import_textual() -> None:
    names = ["fedi_tui.core", "fedi_tui.adapters"]
    names += _modules(fedi_tui.core) + _modules(fedi_tui.adapters)
    assert len(names) > 5
    assert _loaded_after_import(names, ("textual", "rich")) == []


def test_core_does_not_import_network_libraries() -> None:
    names = ["fedi_tui.core", *_modules(fedi_tui.core)]
    net = ("asyncssh", "proxmoxer", "boto3", "botocore", "requests", "httpx", "urllib3")
    assert _loaded_after_import(names, net) == []


def test_the_check_sees_an_import() -> None:
    assert _loaded_after_import(["textual.app"], ("textual", "rich")) == ["rich", "textual"]


def test_cli_parser_does_not_load_textual() -> None:
    """Headless commands stay fast: Textual is imported only for the TUI."""
    assert _loaded_after_import(["fedi_tui.cli"], ("textual",)) == []
