"""fairshare: equitable school resource allocation, explained."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fairshare")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
