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


def test_core_and_adapters_do_not_import_textual() -> None:
    names = [
        "fedi_tui.core",
        "fedi_tui.adapters",
        *_modules(fedi_tui.core),
        *_modules(fedi_tui.adapters),
    ]
    assert len(names) > 5
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_core_does_not_import_network_libraries() -> None:
    names = ["fedi_tui.core", *_modules(fedi_tui.core)]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "net = ('asyncssh', 'proxmoxer', 'boto3', 'botocore', 'requests', 'httpx', 'urllib3')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in net)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_cli_validate_does_not_load_textual() -> None:
    """Headless commands stay fast: Textual is imported only for the TUI."""
    code = (
        "import sys\nfrom fedi_tui.cli import build_parser\nbuild_parser()\n"
        "print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
