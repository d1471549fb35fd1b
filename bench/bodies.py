"""Request bodies the bench sends; every rule they follow is read from bedrock_contract."""

from __future__ import annotations

import json
from itertools import cycle, islice
from typing import Any

from bedrock_contract import DEFAULT_SIZE, MODEL_ID, allowed_sizes
from bedrock_contract.loader import field

__all__ = ["MODEL_ID", "PROMPT", "distinct_bodies", "encode", "text_to_image"]

PROMPT = "a lighthouse on a cliff at dusk, oil painting"


def text_to_image(size: tuple[int, int] = DEFAULT_SIZE, *, seed: int = 42,
                  prompt: str = PROMPT) -> dict[str, Any]:
    width, height = size
    return {"text_prompts": [{"text": prompt}], "width": width, "height": height, "seed": seed}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def distinct_bodies(count: int) -> list[bytes]:
    """``count`` valid bodies, no two alike (prompt and seed vary, sizes cycle), so no
    cache keyed on the body can help whoever validates them."""
    highest_seed = field("seed")["maximum"]
    sizes = islice(cycle(allowed_sizes()), count)
    return [
        encode(text_to_image(size, seed=1 + (i * 7919) % highest_seed, prompt=f"{PROMPT} #{i}"))
        for i, size in enumerate(sizes)
    ]
