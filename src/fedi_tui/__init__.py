"""fedi-tui: run Fediverse applications for your customers from a terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fedi-tui")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
