"""SDXL 1.0's engine: the placeholder started from the init image (by ``image_strength`` or
the step schedule) and masked as the profile's ``masking`` says. The only module of the mock
that names SDXL's request fields; defaults are read from its schema.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image

from bedrock_contract import ModelContract, contract_for
from mock_bedrock.engines.generation import Engine, ResponseCache
from mock_bedrock.placeholder import NO_IMAGES, Step, render

MODEL_ID = "stability.stable-diffusion-xl-v1"
# Pixels at or above this (luminance or alpha) count as white or opaque.
THRESHOLD = 128

Renderer = Callable[..., bytes]


def kept_fraction(contract: ModelContract, body: Mapping[str, Any]) -> float:
    """How much of the init image the output keeps: ``image_strength``, or for the step
    schedule, the part of the schedule skipped (1 - ``step_schedule_start``)."""
    mode = body.get("init_image_mode", contract.field("init_image_mode")["default"])
    if mode == "STEP_SCHEDULE":
        start: float = body.get(
            "step_schedule_start", contract.field("step_schedule_start")["default"]
        )
        return 1.0 - start
    strength: float = body.get("image_strength", contract.field("image_strength")["default"])
    return strength


def replaced_pixels(
    contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> Image.Image | None:
    """A mask (mode L, 255 = replace) of the pixels the placeholder replaces, or None when
    the request does not mask: the profile's ``masking`` names the field that says which
    pixels are painted, and what each of its values paints (white, black, transparent)."""
    masking = contract.masking
    source = body.get(masking["source"])
    if source is None:
        return None
    painted = masking["painted"][source]
    if painted == "transparent":
        alpha = images[masking["image"]].convert("RGBA").getchannel("A")
        return alpha.point(lambda a: 255 if a < THRESHOLD else 0)
    mask = images.get(masking["mask"])
    if mask is None:
        raise ValueError(f"{masking['source']} {source} needs a {masking['mask']}")
    luminance = mask.convert("L")
    if painted == "white":
        return luminance.point(lambda v: 255 if v >= THRESHOLD else 0)
    return luminance.point(lambda v: 255 if v < THRESHOLD else 0)


def _decoded_images(
    contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> dict[str, Image.Image]:
    # The engine hands over the images check_request decoded; a caller that passed only the
    # body gets them decoded here.
    found = dict(images)
    for name, data in contract.body_images(body):
        if name not in found:
            found[name] = Image.open(io.BytesIO(base64.b64decode(data)))
    return found


def render_png(
    body: Mapping[str, Any],
    *,
    seed: int,
    model_id: str,
    images: Mapping[str, Image.Image] = NO_IMAGES,
    blurred: bool = False,
) -> bytes:
    """A placeholder PNG for a valid SDXL request ``body``: ``seed`` is the seed actually
    used, ``images`` the decoded ``init_image`` and ``mask_image`` (decoded from the body
    when absent), ``blurred`` asks for the blurred image a CONTENT_FILTERED answer carries.
    """
    contract = contract_for(MODEL_ID)
    decoded = _decoded_images(contract, body, images)
    init = decoded.get("init_image")
    start: Step | None = None
    finish: Step | None = None
    if init is not None:
        keep = kept_fraction(contract, body)

        def start(picture: Image.Image) -> Image.Image:
            return Image.blend(picture, init.convert("RGB"), keep)

        replace = replaced_pixels(contract, body, decoded)
        if replace is not None:

            def finish(picture: Image.Image) -> Image.Image:
                # Every unmasked pixel is the init image's own, byte for byte.
                return Image.composite(picture, init.convert("RGB"), replace)

    return render(
        contract, body, seed=seed, model_id=model_id, images=decoded, blurred=blurred,
        start=start, finish=finish,
    )


class SdxlEngine(Engine):
    """Draws SDXL placeholders with ``render`` (by default :func:`render_png`)."""

    def __init__(self, render: Renderer = render_png, cache: ResponseCache | None = None) -> None:
        super().__init__(cache, own_renderer=render is not render_png)
        self._render = render

    def draw(
        self,
        contract: ModelContract,
        body: Mapping[str, Any],
        *,
        seed: int,
        model_id: str,
        images: Mapping[str, Image.Image],
        blurred: bool,
    ) -> bytes:
        return self._render(
            body, seed=seed, model_id=model_id, images=dict(images), blurred=blurred
        )
