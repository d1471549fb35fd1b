"""How a test's inner pytest run loads one of this package's plugins.

Until the package registers a plugin through the ``pytest11`` entry point it is loaded with
``-p``; once registered, pytest loads it by itself and ``-p`` would register it twice.
"""

from __future__ import annotations

from importlib.metadata import entry_points


def plugin_args(module: str) -> list[str]:
    registered = {ep.value for ep in entry_points(group="pytest11")}
    return [] if module in registered else ["-p", module]
