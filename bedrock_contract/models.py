"""The model ids of the contract, read from ``stable-diffusion-xl-v1/models.json``."""

from __future__ import annotations

from typing import Any, NamedTuple

from bedrock_contract.loader import load


class ModelRefusal(NamedTuple):
    """How the service refuses a model id: an error code and its message."""

    error: str
    message: str


def _catalogue() -> dict[str, Any]:
    return load("stable-diffusion-xl-v1/models.json")


MODEL_ID: str = _catalogue()["model_id"]
RETIRED_MODEL_IDS: tuple[str, ...] = tuple(_catalogue()["retired"]["ids"])
RETIRED = ModelRefusal(_catalogue()["retired"]["error"], _catalogue()["retired"]["message"])
UNKNOWN_MODEL = ModelRefusal(_catalogue()["unknown"]["error"], _catalogue()["unknown"]["message"])
