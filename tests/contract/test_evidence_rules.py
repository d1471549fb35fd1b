"""Acceptance rules changed when they were re-read against evidence (issue 17), each with the
body that shows it and the evidence that decided it, through real boto3 on both doors, and
the client's local check alike. Bodies AWS's own programs send are in
``tests/mock/models/test_aws_sample_bodies.py``; the model's own field check is in ``tests/contract/test_model_field_check.py``.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageChops, ImageStat

from bedrock_contract import check_request, contract_for
from sdxl_adapter.fit import fit_image
from tests.support.images import b64_image

SD35 = "stability.sd3-5-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
CORE = "stability.stable-image-core-v1:1"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
ERASE = "us.stability.stable-image-erase-object-v1:0"


def answer(client: Any, model_id: str, body: dict[str, Any]) -> Image.Image:
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    (image,) = json.loads(response["body"].read())["images"]
    opened = Image.open(io.BytesIO(base64.b64decode(image)))
    opened.load()
    return opened


def phone_photo(size: tuple[int, int] = (96, 64)) -> bytes:
    """A JPEG with an MPF extension and a second image, as most phones write: Pillow opens it
    as "MPO"."""
    out = io.BytesIO()
    first, second = Image.new("RGB", size, (20, 160, 60)), Image.new("RGB", size, (0, 0, 0))
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def test_a_phone_photo_is_a_jpeg(client: Any) -> None:
    # A JPEG file with an MPF extension is a JPEG: its first image is the picture.
    photo = phone_photo()
    with Image.open(io.BytesIO(photo)) as opened:
        assert opened.format == "MPO"
    body = {"prompt": "a tree", "image": base64.b64encode(photo).decode()}
    check_request(contract_for(INPAINT), body)  # the client's check takes it too
    assert answer(client, INPAINT, body).size == (96, 64)


def test_a_phone_photo_is_fitted_as_a_jpeg() -> None:
    # Fitting a phone photo too small for the model keeps it a JPEG, not a PNG.
    fitted = fit_image(contract_for(INPAINT), "image", phone_photo((48, 40)))
    with Image.open(io.BytesIO(fitted.data)) as opened:
        assert opened.format == "JPEG"
    assert not any("converted" in note for note in fitted.notes)


@pytest.mark.parametrize("model_id", [INPAINT, ERASE])
def test_a_mask_of_any_size_is_resized_to_the_image(client: Any, model_id: str) -> None:
    # stable-image-services.html: "In the event the mask is a different size than the image
    # parameter, it will be automatically resized". A 32x32 mask, white on its left half,
    # changes the left half of a 128x64 image, and only that.
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (0, 0, 16, 32))
    source = Image.effect_noise((128, 64), 64).convert("RGB")
    body = {"prompt": "grass", "image": _b64(source), "mask": _b64(mask), "grow_mask": 0}
    if model_id == ERASE:
        del body["prompt"]
    image = answer(client, model_id, body).convert("RGB")
    assert image.size == (128, 64)
    changed = ImageChops.difference(image, source).getbbox()
    assert changed is not None and changed[0] == 0
    assert 60 <= changed[2] <= 66  # the mask's edge, scaled 4x (resampling blurs a pixel)


def _b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_ultra_takes_an_image_to_start_from(client: Any) -> None:
    # The live service's list of Ultra's fields names mode, strength and image (BerriAI/
    # litellm issues 6826 and 8946); the page's Image to image tab lists image and strength
    # (default 0.35: 0 keeps the input, 1 ignores it).
    red = (250, 10, 10)
    source = b64_image((640, 448), color=red)
    kept = answer(client, ULTRA, {"prompt": "in oils", "mode": "image-to-image", "image": source,
                                  "strength": 0.1})
    ignored = answer(client, ULTRA, {"prompt": "in oils", "image": source, "strength": 0.9})
    assert kept.size == ignored.size == (1216, 832)  # about a megapixel in the input's shape

    def distance(image: Image.Image) -> float:
        plain = Image.new("RGB", image.size, red)
        return sum(ImageStat.Stat(ImageChops.difference(image.convert("RGB"), plain)).mean)

    # Without strength, the page's default 0.35: between the two.
    implicit = answer(client, ULTRA, {"prompt": "in oils", "image": source})
    assert distance(kept) < distance(implicit) < distance(ignored)


@pytest.mark.parametrize(("model_id", "body", "violation"), [
    # Our reading of the pages, said so in the profiles' sources: image to image takes no
    # aspect ratio ("only valid for text-to-image requests"), and a text-to-image request
    # named so takes no image.
    (ULTRA, {"prompt": "x", "image": "IMAGE", "aspect_ratio": "1:1"},
     "#/aspect_ratio: subject must not be valid against schema {}"),
    (ULTRA, {"prompt": "x", "mode": "text-to-image", "image": "IMAGE"},
     "#/image: subject must not be valid against schema {}"),
    (ULTRA, {"prompt": "x", "mode": "image-to-image"}, "#: required key [image] not found"),
    (CORE, {"prompt": "x", "mode": "image-to-image"},
     "#/mode: image-to-image is not a valid enum value"),
])
def test_what_stays_refused(client: Any, model_id: str, body: dict[str, Any],
                            violation: str) -> None:
    body = {k: b64_image((64, 64)) if v == "IMAGE" else v for k, v in body.items()}
    with pytest.raises(ClientError) as refused:
        client.invoke_model(modelId=model_id, body=json.dumps(body))
    message = refused.value.response["Error"]["Message"]
    assert message == ("Malformed input request: " + violation
                       + ", please reformat your input and try again.")


@pytest.mark.parametrize("body", [
    # AWS's Image Services notebook: mode text-to-image with strength 1 (no effect).
    {"prompt": "a cat", "mode": "text-to-image", "strength": 1},
    # The same request with mode left to its default.
    {"prompt": "a cat", "strength": 1},
])
def test_sd35_takes_strength_in_text_to_image(client: Any, body: dict[str, Any]) -> None:
    image = answer(client, SD35, body)
    assert image.size == (1024, 1024)  # text to image: the default aspect ratio's pixels
