"""The project's version, read from one place: the installed distribution's metadata
(``version`` in pyproject.toml). Every package's ``__version__`` and both commands'
``--version`` are this."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "sdxl-bedrock"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["DISTRIBUTION", "__version__"]
