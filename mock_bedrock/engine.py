"""The SDXL service logic: the seed rule and the model's response body.

Nothing here knows about HTTP; the wire layer hands in a validated request and gets back
the exact bytes the model returns.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from mock_bedrock.placeholder import render_png
from sdxl_schemas import ValidRequest
from sdxl_schemas.loader import field

SUCCESS = "SUCCESS"
Renderer = Callable[..., bytes]


def seed_range() -> tuple[int, int]:
    """The seeds a request may ask for, from the request schema."""
    rule = field("seed")
    return rule["minimum"], rule["maximum"]


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def effective_seed(body: dict[str, Any]) -> int:
    """The seed the model uses: the one asked for, or when that is 0 or absent ("the service
    picks"), a non-zero seed derived from the request, so the same request gets the same
    image. ``seed: 0`` and no seed are the same request."""
    asked = body.get("seed", 0)
    if asked:
        return int(asked)
    _, highest = seed_range()
    rest = {key: value for key, value in body.items() if key != "seed"}
    digest = hashlib.sha256(canonical_json(rest)).digest()
    return int.from_bytes(digest[:8], "big") % highest + 1


@dataclass(frozen=True)
class Generation:
    """What the model returned: its response body and the facts the journal wants."""

    body: bytes
    seed: int
    finish_reason: str


class SdxlEngine:
    """Turns a valid SDXL request into the model's response body."""

    def __init__(self, render: Renderer = render_png) -> None:
        self._render = render

    def generate(
        self, model_id: str, request: ValidRequest, *, finish_reason: str = SUCCESS
    ) -> Generation:
        seed = effective_seed(request.body)
        images: dict[str, Image.Image] = dict(request.images)
        png = self._render(
            request.body,
            seed=seed,
            model_id=model_id,
            images=images,
            blurred=finish_reason == "CONTENT_FILTERED",
        )
        artifact = {
            "seed": seed,
            "base64": base64.b64encode(png).decode("ascii"),
            "finishReason": finish_reason,
        }
        body = json.dumps({"result": "success", "artifacts": [artifact]}).encode()
        return Generation(body, seed, finish_reason)
