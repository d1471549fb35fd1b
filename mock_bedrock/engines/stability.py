"""The engine of the Stability envelope models (SD3.5 Large, Stable Image Core and Ultra):
a placeholder at the size the aspect ratio gives (or, from an input image, the size the
contract scales it to: about a megapixel in its shape), in the requested ``output_format``,
started from the input image where the profile's ``image_to_image`` names one, weighted by
its strength field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from bedrock_contract import ModelContract
from mock_bedrock.engines.generation import Engine, Steps


def kept_fraction(contract: ModelContract, body: Mapping[str, Any]) -> float:
    """How much of the input image the output keeps, from the strength field. The profile
    says which end keeps the input (SD3.5: strength 0 preserves it, 1 ignores it)."""
    spec = contract.image_to_image
    default = contract.field(spec["strength"]).get("default", 0.5)
    strength = float(body.get(spec["strength"], default))
    keeps_at = spec.get("strength_keeps_input_at", 1)
    return 1.0 - strength if keeps_at == 0 else strength


class StabilityEngine(Engine):
    def steps(
        self, contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
    ) -> Steps:
        source = images.get(contract.image_to_image.get("image", ""))
        if source is None:
            return None, None
        keep = kept_fraction(contract, body)

        def start(picture: Image.Image) -> Image.Image:
            # The input is held at the size the picture is drawn at, unless the body named
            # an aspect ratio of another shape.
            sized = source if source.size == picture.size else source.resize(picture.size)
            return Image.blend(picture, sized if sized.mode == "RGB" else sized.convert("RGB"),
                               keep)

        return start, None
