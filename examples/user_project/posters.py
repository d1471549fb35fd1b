"""Travel posters drawn by Stability SDXL 1.0 on Amazon Bedrock.

A sample of code under test: it builds its own boto3 client (so the endpoint comes from the
usual AWS configuration, e.g. ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) or takes one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import boto3

MODEL_ID = "stability.stable-diffusion-xl-v1"
POSTER_SIZE = (832, 1216)  # (width, height): portrait, one of SDXL's sizes
STYLE = "digital-art"
STEPS = 30


class PosterRefused(Exception):
    """The service generated no usable poster (filtered, or a generation error)."""


@dataclass(frozen=True)
class Poster:
    png: bytes
    seed: int


def poster_body(place: str, *, seed: int = 0) -> dict[str, Any]:
    width, height = POSTER_SIZE
    return {
        "text_prompts": [
            {"text": f"vintage travel poster of {place}, bold flat colours"},
            {"text": "lettering, watermark", "weight": -1},
        ],
        "width": width,
        "height": height,
        "style_preset": STYLE,
        "cfg_scale": 8,
        "steps": STEPS,
        "seed": seed,
    }


def draw_poster(place: str, *, seed: int = 0, client: Any = None) -> Poster:
    """One poster of ``place``; seed 0 lets the service pick (the poster says which)."""
    client = client or boto3.client("bedrock-runtime")
    response = client.invoke_model(
        modelId=MODEL_ID,
        body=json.dumps(poster_body(place, seed=seed)),
        contentType="application/json",
        accept="application/json",
    )
    artifact = json.loads(response["body"].read())["artifacts"][0]
    if artifact["finishReason"] != "SUCCESS":
        raise PosterRefused(f"{place}: {artifact['finishReason']}")
    return Poster(base64.b64decode(artifact["base64"]), artifact["seed"])
