"""The models the bench calls and the request bodies it sends; every rule the bodies follow
(field names, sizes, ranges, formats) is read from the model's contract."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from itertools import cycle, islice
from typing import Any, NamedTuple

from PIL import Image, ImageDraw

from bedrock_contract import (
    AspectRatioRule,
    InputSizeRule,
    ModelContract,
    Size,
    contract_for,
    format_size,
)
from bedrock_contract.paths import merged

__all__ = [
    "CORE",
    "CORE_ID",
    "FAST_UPSCALE",
    "FAST_UPSCALE_ID",
    "INPAINT",
    "INPAINT_ID",
    "INPAINT_INPUT",
    "OUTPUT_FORMATS",
    "PROMPT",
    "SD35",
    "SD35_ID",
    "SDXL",
    "SDXL_ID",
    "UPSCALE_INPUT",
    "Request",
    "default_size",
    "distinct_bodies",
    "encode",
    "format_model",
    "image_body",
    "image_field",
    "input_picture",
    "png_base64",
    "quarter_mask",
    "request",
    "sizes",
    "text_to_image",
]

SDXL_ID = "stability.stable-diffusion-xl-v1"
CORE_ID = "stability.stable-image-core-v1:1"
SD35_ID = "stability.sd3-5-large-v1:0"
SDXL, CORE, SD35 = (contract_for(model_id) for model_id in (SDXL_ID, CORE_ID, SD35_ID))
# Two Image Services, rendered from an input picture of the size issue 10 names: a
# 1-megapixel inpaint, and a fast upscale of a 512x512 picture (to the contract's size).
INPAINT_ID = "us.stability.stable-image-inpaint-v1:0"
FAST_UPSCALE_ID = "us.stability.stable-fast-upscale-v1:0"
INPAINT, FAST_UPSCALE = (contract_for(model_id) for model_id in (INPAINT_ID, FAST_UPSCALE_ID))
INPAINT_INPUT: Size = (1024, 1024)
UPSCALE_INPUT: Size = (512, 512)

# The formats the bench renders once each (the issue asks for every output format a
# Stability model offers); each is rendered by the first of these models that offers it.
OUTPUT_FORMATS = ("png", "jpeg", "webp")
_FORMAT_MODELS = (CORE_ID, SD35_ID)

PROMPT = "a lighthouse on a cliff at dusk, oil painting"


def default_size(contract: ModelContract) -> Size:
    """The size a body that names none gets (1024x1024 for every model here)."""
    rule = contract.size
    if isinstance(rule, AspectRatioRule):
        return rule.pixels[rule.default]
    return rule.default


def _size_fields(contract: ModelContract, size: Size) -> dict[str, Any]:
    rule = contract.size
    if not isinstance(rule, AspectRatioRule):
        return dict(rule.body_fields(size))
    ratio = next((r for r, pixels in rule.pixels.items() if pixels == size), None)
    if ratio is None:
        raise ValueError(f"{contract.name} has no aspect ratio of {format_size(size)}")
    found: dict[str, Any] = {}
    rule.field.put(found, ratio)
    return found


def text_to_image(contract: ModelContract = SDXL, size: Size | None = None, *, seed: int = 42,
                  prompt: str = PROMPT, output_format: str | None = None) -> dict[str, Any]:
    """A text-to-image body for ``contract`` at ``size`` (the default size unless given),
    naming its size, seed and, where the model takes one, its output format."""
    body = merged(contract.prompts.body_fields([prompt], []),
                  _size_fields(contract, size or default_size(contract)))
    if contract.seed_field is not None:
        contract.seed_field.put(body, seed)
    format_field = contract.response.format_field
    if format_field is not None:
        format_field.put(body, output_format or contract.output_format({}))
    elif output_format not in (None, *contract.output_formats):
        raise ValueError(f"{contract.name} answers only {contract.output_formats[0]}")
    return body


def format_model(output_format: str) -> tuple[str, ModelContract]:
    """The model id and contract the bench renders ``output_format`` with."""
    for model_id in _FORMAT_MODELS:
        contract = contract_for(model_id)
        if output_format in contract.output_formats:
            return model_id, contract
    raise ValueError(f"none of {', '.join(_FORMAT_MODELS)} answers {output_format}")


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


class Request(NamedTuple):
    """One ``invoke_model`` call's model id and body, as sent."""

    model_id: str
    body: bytes

    @property
    def contract(self) -> ModelContract:
        return contract_for(self.model_id)


def request(model_id: str = SDXL_ID, **fields: Any) -> Request:
    """A text-to-image request to ``model_id`` (``fields`` as :func:`text_to_image` takes)."""
    return Request(model_id, encode(text_to_image(contract_for(model_id), **fields)))


def distinct_bodies(count: int, contract: ModelContract = SDXL) -> list[bytes]:
    """``count`` valid bodies, no two alike (prompt and seed vary, sizes cycle), so no
    cache keyed on the body can help whoever validates them."""
    _, highest_seed = contract.seed_range()
    cycled = islice(cycle(sizes(contract)), count)
    return [
        encode(text_to_image(contract, size, seed=1 + (i * 7919) % highest_seed,
                             prompt=f"{PROMPT} #{i}"))
        for i, size in enumerate(cycled)
    ]


def sizes(contract: ModelContract = SDXL) -> tuple[Size, ...]:
    """Every output size a text-to-image body can ask ``contract`` for, in pixels."""
    rule = contract.size
    return tuple(rule.pixels.values()) if isinstance(rule, AspectRatioRule) else rule.allowed


# --- input images, for the Image Services ------------------------------------------------


def input_picture(size: Size) -> Image.Image:
    """An RGB picture with no two rows alike (three gradients), so neither side's PNG
    encoder meets the runs of repeated rows a flat picture would hand it."""
    ramp, ring = Image.linear_gradient("L"), Image.radial_gradient("L")
    return Image.merge("RGB", (ramp.resize(size), ring.resize(size), ramp.rotate(90).resize(size)))


def quarter_mask(size: Size) -> Image.Image:
    """A black mask (mode L) with a white box in the middle, half of each side: a quarter
    of the picture to repaint."""
    width, height = size
    mask = Image.new("L", size, 0)
    left, top = width // 4, height // 4
    ImageDraw.Draw(mask).rectangle((left, top, left + width // 2 - 1, top + height // 2 - 1),
                                   fill=255)
    return mask


def png_base64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def image_field(contract: ModelContract) -> str:
    """The request field of the image whose size the output takes (before an upscale)."""
    rule = contract.size
    if not isinstance(rule, InputSizeRule):
        raise ValueError(f"{contract.name} takes its size from the body, not an image")
    return rule.from_image[0]


def image_body(contract: ModelContract, images: Mapping[str, str], *, seed: int = 42,
               prompt: str = PROMPT, output_format: str | None = None,
               **fields: Any) -> dict[str, Any]:
    """A body for an Image Service: ``images`` (field to base64, encoded once by the
    caller), the prompt and seed where the model takes them, its output format, and any
    operation ``fields`` (named as the contract names them)."""
    body = {**contract.prompts.body_fields([prompt], []), **images, **fields}
    if contract.seed_field is not None:
        contract.seed_field.put(body, seed)
    format_field = contract.response.format_field
    if format_field is not None:
        format_field.put(body, output_format or contract.output_format({}))
    return body
