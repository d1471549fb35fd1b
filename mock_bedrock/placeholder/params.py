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

from bedrock_contract import ModelContract
from bedrock_contract.canonical import canonical_json
from bedrock_contract.sizes import sent_size

DIGEST_HEX_CHARS = 16


def prompts_of(contract: ModelContract, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The prompts in request order, each with its weight (below 0: negative)."""
    return [{"text": p.text, "weight": p.weight} for p in contract.prompts.of(body)]


def image_digest(encoded: Any, image: Image.Image | None) -> dict[str, Any]:
    """A short stand-in for a base64 image: sha256 prefix and length of the file's bytes
    (what `sha256sum init.png` prints), plus the picture's size."""
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
        found["size"] = list(sent_size(image))  # as sent, whatever size it is held at
    return found


def describe(
    contract: ModelContract,
    body: Mapping[str, Any],
    *,
    seed: int,
    model_id: str,
    size: tuple[int, int],
    images: Mapping[str, Image.Image],
    blurred: bool,
) -> dict[str, Any]:
    """The placeholder's parameters: every body field (images digested, the prompt fields
    as ``prompts`` with weights), the seed actually used, the model id, the output size.
    A nested field keeps its place (``imageGenerationConfig: {cfgScale: ...}``); the seed
    asked for is ``requested_seed`` and an image its key's digest, wherever they sit."""
    seed_field = contract.seed_field
    params: dict[str, Any] = dict(body)
    for path in (*contract.prompts.fields, *contract.image_fields,
                 *((seed_field,) if seed_field else ())):
        params = path.without(params)
    if seed_field is not None and seed_field.has(body):
        params["requested_seed"] = seed_field.get(body)
    digested = {key: image_digest(data, images.get(key))
                for key, data in contract.body_images(body)}
    digested |= {key: image_digest(None, image) for key, image in images.items()
                 if key not in digested}
    params.update(digested)
    params.update(
        model_id=model_id,
        seed=seed,
        size=list(size),
        prompts=prompts_of(contract, body),
        blurred=blurred,
    )
    # A JSON round trip makes the description plain data: tuples become lists, and anything
    # JSON cannot hold fails here rather than in the image writer.
    described: dict[str, Any] = json.loads(canonical_json(params))
    return described
