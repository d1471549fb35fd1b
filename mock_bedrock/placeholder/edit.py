"""Image to image and masking: how the placeholder meets the init image.

Defaults (image strength, step schedule start) are read from the request schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from bedrock_contract.loader import field

# Pixels at or above this (luminance or alpha) count as white or opaque.
THRESHOLD = 128


def kept_fraction(body: Mapping[str, Any]) -> float:
    """How much of the init image the output keeps: ``image_strength``, or for the step
    schedule, the part of the schedule skipped (1 - ``step_schedule_start``)."""
    mode = body.get("init_image_mode", field("init_image_mode")["default"])
    if mode == "STEP_SCHEDULE":
        start: float = body.get("step_schedule_start", field("step_schedule_start")["default"])
        return 1.0 - start
    strength: float = body.get("image_strength", field("image_strength")["default"])
    return strength


def replaced_pixels(
    body: Mapping[str, Any], init: Image.Image, mask: Image.Image | None
) -> Image.Image | None:
    """A mask (mode L, 255 = replace) of the pixels the placeholder replaces, or None when
    the request does not mask."""
    source = body.get("mask_source")
    if source is None:
        return None
    if source == "INIT_IMAGE_ALPHA":
        alpha = init.convert("RGBA").getchannel("A")
        return alpha.point(lambda a: 255 if a < THRESHOLD else 0)
    if mask is None:
        raise ValueError(f"mask_source {source} needs a mask_image")
    luminance = mask.convert("L")
    if source == "MASK_IMAGE_WHITE":
        return luminance.point(lambda v: 255 if v >= THRESHOLD else 0)
    return luminance.point(lambda v: 255 if v < THRESHOLD else 0)


def start_from_init(
    placeholder: Image.Image, body: Mapping[str, Any], init: Image.Image
) -> Image.Image:
    """The init image blended into the placeholder: all of it at strength 1, none at 0."""
    return Image.blend(placeholder, init.convert("RGB"), kept_fraction(body))


def apply_mask(placeholder: Image.Image, init: Image.Image, replace: Image.Image) -> Image.Image:
    """The init image with the masked pixels replaced; every other pixel is the init
    image's own, byte for byte."""
    return Image.composite(placeholder, init.convert("RGB"), replace)
