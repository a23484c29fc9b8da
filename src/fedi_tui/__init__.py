"""fedi-tui: run Fediverse applications for your customers from a terminal."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # importlib.metadata costs ~30 ms: only `--version` needs it, so it is read on demand
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("fedi-tui")
        except PackageNotFoundError:  # a source tree that was not installed
            return "0.0.0+source"
    raise AttributeError(name)
