"""Titan Image Generator v1 and v2 and Nova Canvas bodies, one per task type, as AWS's pages
shape them: what the wire tests send each model, and what the migration tests move."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.support.images import b64_image

TITAN_V1 = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
CANVAS = "amazon.nova-canvas-v1:0"
MODELS = (TITAN_V1, TITAN_V2, CANVAS)
FRAME = "Malformed input request: {}, please reformat your input and try again."
EOL_MESSAGE = ("This model version has reached the end of its life. Please refer to the AWS "
               "documentation for more details.")
PHOTO = (200, 100, 50)
Params = list[dict[str, Any]]  # what each placeholder says of itself
GARMENT = (20, 40, 220)


def mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> str:
    """White, with ``box`` black: Titan's and Canvas's masks mark the edited area black."""
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((0, 0, 0), box)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def photo(size: tuple[int, int] = (512, 384), colour: tuple[int, int, int] = PHOTO) -> str:
    return b64_image(size, color=colour)


# One body per task type, as AWS's pages shape them; each model is sent those of its tasks.
TASKS: dict[str, dict[str, Any]] = {
    "TEXT_IMAGE": {"taskType": "TEXT_IMAGE",
                   "textToImageParams": {"text": "a lighthouse", "negativeText": "fog"},
                   "imageGenerationConfig": {"width": 768, "height": 1152, "seed": 7,
                                             "numberOfImages": 2, "cfgScale": 8.0}},
    "conditioned TEXT_IMAGE": {"taskType": "TEXT_IMAGE",
                               "textToImageParams": {"text": "a lighthouse",
                                                     "conditionImage": photo((512, 512)),
                                                     "controlMode": "SEGMENTATION"},
                               "imageGenerationConfig": {"width": 512, "height": 512}},
    "COLOR_GUIDED_GENERATION": {"taskType": "COLOR_GUIDED_GENERATION",
                                "colorGuidedGenerationParams": {
                                    "text": "a poster", "colors": ["#FF9900", "#232F3E"]},
                                "imageGenerationConfig": {"width": 512, "height": 512}},
    "IMAGE_VARIATION": {"taskType": "IMAGE_VARIATION",
                        "imageVariationParams": {"text": "brighter", "images": [photo()],
                                                 "similarityStrength": 0.9},
                        "imageGenerationConfig": {"width": 512, "height": 512}},
    "INPAINTING": {"taskType": "INPAINTING",
                   "inPaintingParams": {"image": photo(), "text": "a dog",
                                        "maskImage": mask((512, 384), (100, 100, 300, 250))}},
    "INPAINTING by prompt": {"taskType": "INPAINTING",
                             "inPaintingParams": {"image": photo(), "maskPrompt": "the cat"}},
    "OUTPAINTING": {"taskType": "OUTPAINTING",
                    "outPaintingParams": {"image": photo(), "text": "a beach",
                                          "maskImage": mask((512, 384), (100, 100, 300, 250)),
                                          "outPaintingMode": "PRECISE"}},
    "BACKGROUND_REMOVAL": {"taskType": "BACKGROUND_REMOVAL",
                           "backgroundRemovalParams": {"image": photo((640, 480))}},
    "VIRTUAL_TRY_ON": {"taskType": "VIRTUAL_TRY_ON",
                       "virtualTryOnParams": {"sourceImage": photo((512, 768)),
                                              "referenceImage": photo((400, 400), GARMENT),
                                              "maskType": "GARMENT",
                                              "garmentBasedMask": {"garmentClass": "UPPER_BODY"}}},
}
V1_TASKS = ("TEXT_IMAGE", "IMAGE_VARIATION", "INPAINTING", "INPAINTING by prompt",
            "OUTPAINTING")
V2_TASKS = (*V1_TASKS, "conditioned TEXT_IMAGE", "COLOR_GUIDED_GENERATION",
            "BACKGROUND_REMOVAL")
SERVED = [(TITAN_V1, t) for t in V1_TASKS] + [(TITAN_V2, t) for t in V2_TASKS] + \
    [(CANVAS, t) for t in (*V2_TASKS, "VIRTUAL_TRY_ON")]
