"""The package boundaries: core/ and adapters/ never pull in Textual or Rich (checked in a
fresh interpreter); the TUI never imports adapters; core imports neither adapters, the TUI
nor the CLI (checked in the source, lazy imports inside functions included)."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

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


def _imports_of(package: object) -> dict[str, set[str]]:
    """Per module of a package, every `fedi_tui…` module it imports (read from the source)."""
    found: dict[str, set[str]] = {}
    for name in [package.__name__, *_modules(package)]:  # type: ignore[attr-defined]
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[name] = {n for n in names if n.startswith("fedi_tui.")}
    return found


def _offenders(package: object, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in _imports_of(package).items()
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_tui_does_not_import_adapters() -> None:
    """The TUI reaches the outside only through ports the CLI wires (core.probes.Prober)."""
    import fedi_tui.tui

    assert _offenders(fedi_tui.tui, ("fedi_tui.adapters",)) == []


def test_core_does_not_import_adapters_tui_or_cli() -> None:
    assert _offenders(fedi_tui.core, ("fedi_tui.adapters", "fedi_tui.tui", "fedi_tui.cli")) == []


def test_the_import_check_sees_an_import() -> None:
    """The check above can fail: the CLI does import the adapters and the TUI."""
    import fedi_tui.cli

    found = _offenders(fedi_tui.cli, ("fedi_tui.adapters", "fedi_tui.tui"))
    assert "fedi_tui.cli.tuicmd imports fedi_tui.adapters.prober" in found
    assert "fedi_tui.cli.tuicmd imports fedi_tui.tui.factory" in found
