"""A package's public names, each imported from its module when first asked for (PEP 562):
the packages' ``__init__`` modules name where each lives, and start-up pays for none."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Collection, Mapping
from typing import Any


def export(package: str, homes: Mapping[str, str], name: str,
           modules: Collection[str] = ()) -> Any:
    """``package``'s attribute ``name``: imported from the module ``homes`` names, then kept
    in the package (the next lookup is a plain one). A name in ``modules`` is that module
    itself."""
    if name not in homes:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    home = importlib.import_module(homes[name])
    value = home if name in modules else getattr(home, name)
    setattr(sys.modules[package], name, value)
    return value
