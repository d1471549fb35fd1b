"""One engine per kind of model, named by the profile's ``engine``: each turns a valid
request into the model's response body."""

from __future__ import annotations

from mock_bedrock.engines.generation import Engine, clear_cache
from mock_bedrock.engines.sdxl import SdxlEngine
from mock_bedrock.engines.services import ServicesEngine
from mock_bedrock.engines.stability import StabilityEngine

__all__ = [
    "ENGINES", "Engine", "SdxlEngine", "ServicesEngine", "StabilityEngine", "clear_cache",
    "default_engines",
]

ENGINES: dict[str, type[Engine]] = {
    "sdxl": SdxlEngine, "stability": StabilityEngine, "services": ServicesEngine,
}


def default_engines() -> dict[str, Engine]:
    """A fresh engine of each kind, by the name profiles use."""
    return {name: kind() for name, kind in ENGINES.items()}
