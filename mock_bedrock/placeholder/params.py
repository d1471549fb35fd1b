"""What a placeholder image says about itself: the request's parameters, canonicalised.

The same description serves two purposes: it is written into the PNG (so a test can read
back what the mock was asked), and its parts seed the picture. Canonical JSON (sorted keys,
fixed separators) makes both independent of the input's dict order and of hash
randomisation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from PIL import Image

from bedrock_contract.loader import field
from mock_bedrock.canonical import canonical_json

IMAGE_FIELDS = ("init_image", "mask_image")
DIGEST_HEX_CHARS = 16


def prompt_weight_default() -> float:
    default: float = field("text_prompts")["items"]["properties"]["weight"]["default"]
    return default


def prompts_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The prompts in request order, each with its weight (the schema default filled in)."""
    default = prompt_weight_default()
    return [
        {"text": p.get("text", ""), "weight": p.get("weight", default)}
        for p in body.get("text_prompts", [])
    ]


def image_digest(name: str, body: Mapping[str, Any], image: Image.Image | None) -> dict[str, Any]:
    """A short stand-in for a base64 image: sha256 prefix and length of the file's bytes
    (what `sha256sum init.png` prints), plus the picture's size."""
    encoded = body.get(name)
    if isinstance(encoded, str):
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raw = encoded.encode()
    elif image is not None:
        # No file to hash (an image handed over without its body field): hash the pixels.
        raw = image.mode.encode() + repr(image.size).encode() + image.tobytes()
    else:
        raw = b""
    found: dict[str, Any] = {
        "sha256": hashlib.sha256(raw).hexdigest()[:DIGEST_HEX_CHARS],
        "bytes": len(raw),
    }
    if image is not None:
        found["size"] = list(image.size)
    return found


def describe(
    body: Mapping[str, Any],
    *,
    seed: int,
    model_id: str,
    size: tuple[int, int],
    images: Mapping[str, Image.Image],
    blurred: bool,
) -> dict[str, Any]:
    """The placeholder's parameters: every body field (images digested, ``text_prompts`` as
    ``prompts`` with weights), the seed actually used, the model id, the output size."""
    params: dict[str, Any] = {
        key: value
        for key, value in body.items()
        if key not in ("text_prompts", "seed", *IMAGE_FIELDS)
    }
    if "seed" in body:
        params["requested_seed"] = body["seed"]
    for name in IMAGE_FIELDS:
        if name in body or name in images:
            params[name] = image_digest(name, body, images.get(name))
    params.update(
        model_id=model_id,
        seed=seed,
        size=list(size),
        prompts=prompts_of(body),
        blurred=blurred,
    )
    # A JSON round trip makes the description plain data: tuples become lists, and anything
    # JSON cannot hold fails here rather than in the PNG writer.
    described: dict[str, Any] = json.loads(canonical_json(params))
    return described
