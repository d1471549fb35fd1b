"""Travel posters drawn by Stable Image Core on Amazon Bedrock, and the project's old SDXL 1.0
path, kept for the posters it drew before SDXL reached its end of life (2025-05-20).

A sample of code under test: it builds its own boto3 client (so the endpoint comes from the
usual AWS configuration, e.g. ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) or takes one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import boto3

MODEL_ID = "stability.stable-image-core-v1:1"
ASPECT_RATIO = "2:3"  # portrait
POSTER_SIZE = (832, 1216)  # (width, height): what Stable Image Core draws at 2:3
STYLE = "vintage travel poster, bold flat colours"

# The old path: SDXL 1.0, refused by Bedrock since its end of life.
LEGACY_MODEL_ID = "stability.stable-diffusion-xl-v1"
LEGACY_STEPS = 30


class PosterRefused(Exception):
    """The service generated no usable poster (filtered, or a generation error)."""


class ModelRetired(Exception):
    """The model has reached its end of life: the service refuses it."""


@dataclass(frozen=True)
class Poster:
    png: bytes
    seed: int


def poster_body(place: str, *, seed: int = 0) -> dict[str, Any]:
    return {
        "prompt": f"{STYLE}: {place}",
        "negative_prompt": "lettering, watermark",
        "aspect_ratio": ASPECT_RATIO,
        "output_format": "png",
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
    answer = json.loads(response["body"].read())
    reason = answer["finish_reasons"][0]
    if reason is not None:
        raise PosterRefused(f"{place}: {reason}")
    return Poster(base64.b64decode(answer["images"][0]), answer["seeds"][0])


def draw_legacy_poster(place: str, *, client: Any) -> Poster:
    """A poster as the project drew it on SDXL 1.0; :class:`ModelRetired` once the service
    refuses SDXL."""
    body = {
        "text_prompts": [{"text": f"{STYLE}: {place}"}],
        "width": POSTER_SIZE[0],
        "height": POSTER_SIZE[1],
        "steps": LEGACY_STEPS,
    }
    try:
        response = client.invoke_model(modelId=LEGACY_MODEL_ID, body=json.dumps(body),
                                       contentType="application/json")
    except client.exceptions.ResourceNotFoundException as err:
        raise ModelRetired(f"{LEGACY_MODEL_ID}: {err.response['Error']['Message']} "
                           f"Use {MODEL_ID}.") from err
    artifact = json.loads(response["body"].read())["artifacts"][0]
    return Poster(base64.b64decode(artifact["base64"]), artifact["seed"])
