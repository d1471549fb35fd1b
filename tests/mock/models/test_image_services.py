"""The 13 Stability Image Services over the wire, through both doors, with real boto3
clients: each answers the envelope at the size and in the format the contract gives, with
pixels that show what the operation did; input images are checked with clear refusals."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageChops, ImageStat

from bedrock_contract import InputSizeRule, contract_for, default_catalogue
from bedrock_contract.paths import FieldPath
from mock_bedrock.placeholder import read_parameters

SERVICES = [c for c in default_catalogue() if not c.in_region]
FRAME = "Malformed input request: {}, please reformat your input and try again."


def png(size: tuple[int, int], mode: str = "RGB", colour: Any = (200, 60, 40)) -> str:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """A picture of random (seeded) pixels, so any changed pixel shows."""
    data = hashlib.shake_256(f"{seed}".encode()).digest(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


# A flat 768x512 picture: cheap to enlarge and encode (pixel tests use noise instead).
FLAT = png((768, 512), colour=(90, 120, 200))


def model_id(family: str) -> str:
    return f"us.stability.{family}-v1:0"


def invoke(client: Any, family: str, body: dict[str, Any]) -> tuple[dict[str, Any], Image.Image]:
    response = client.invoke_model(modelId=model_id(family), body=json.dumps(body),
                                   contentType="application/json")
    answer: dict[str, Any] = json.loads(response["body"].read())
    image = Image.open(io.BytesIO(base64.b64decode(answer["images"][0])))
    image.load()
    return answer, image


def refusal(client: Any, family: str, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as refused:
        client.invoke_model(modelId=model_id(family), body=json.dumps(body),
                            contentType="application/json")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    message: str = refused.value.response["Error"]["Message"]
    return message


def minimal(family: str, **images: str) -> dict[str, Any]:
    """The family's required fields: prompts as text, images as given or a flat picture."""
    contract = default_catalogue().family(family)
    body: dict[str, Any] = {}
    for name in contract.required:
        if FieldPath((name,)) in contract.image_fields:
            body[name] = images.get(name, FLAT)
        else:
            body[name] = "a red door"
    body.update(images)
    if family == "stable-outpaint":
        body["left"] = 64
    return body


@pytest.mark.parametrize("family", [c.family for c in SERVICES])
def test_each_service_answers_the_envelope_in_each_format(client: Any, family: str) -> None:
    contract = default_catalogue().family(family)
    for output_format in contract.output_formats:
        body = {**minimal(family), "output_format": output_format}
        answer, image = invoke(client, family, body)
        assert answer["finish_reasons"] == [None] and len(answer["seeds"]) == 1
        assert image.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[output_format]
        params = read_parameters(base64.b64decode(answer["images"][0]))
        assert params["model_id"] == f"stability.{family}-v1:0"
    # The same request, the same bytes.
    body = minimal(family)
    assert invoke(client, family, body)[0] == invoke(client, family, body)[0]


@pytest.mark.parametrize(
    ("family", "size", "expected"),
    [
        ("stable-fast-upscale", (300, 200), (1200, 800)),  # 4x
        ("stable-conservative-upscale", (768, 512), (2449, 1633)),  # about 4 megapixels
        ("stable-creative-upscale", (512, 512), (2000, 2000)),
    ],
)
def test_upscales_return_the_larger_size(
    client: Any, family: str, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    _, image = invoke(client, family, minimal(family, image=b64(noise(size))))
    assert image.size == expected
    assert abs(image.size[0] / image.size[1] - size[0] / size[1]) < 0.01  # same aspect


def test_outpaint_grows_the_canvas_and_keeps_the_original_in_place(client: Any) -> None:
    source = noise((400, 300))
    body = {"image": b64(source), "left": 40, "right": 10, "up": 20, "down": 30}
    _, image = invoke(client, "stable-outpaint", body)
    assert image.size == (400 + 40 + 10, 300 + 20 + 30)
    kept = image.convert("RGB").crop((40, 20, 440, 320))
    assert ImageChops.difference(kept, source).getbbox() is None  # byte-identical pixels


def test_outpaint_needs_one_direction(client: Any) -> None:
    body = {"image": b64(noise((300, 300))), "left": 0}
    # An anyOf of four "this direction, at least 1" branches: everit lists each branch's
    # failure, the one that found "left" (but 0) first.
    assert refusal(client, "stable-outpaint", body) == FRAME.format(
        "#/left: 0 is not greater or equal to 1#: required key [right] not found"
        "#: required key [up] not found#: required key [down] not found"
    )


@pytest.mark.parametrize("family", ["stable-image-inpaint", "stable-image-erase-object"])
def test_inpaint_and_erase_change_only_the_masked_region(client: Any, family: str) -> None:
    source = noise((400, 300))
    mask = Image.new("L", (400, 300), 0)
    mask.paste(255, (100, 100, 200, 200))
    body = {**minimal(family, image=b64(source)), "mask": b64(mask), "grow_mask": 0}
    _, image = invoke(client, family, body)
    diff = ImageChops.difference(image.convert("RGB"), source).getbbox()
    assert diff is not None  # the masked region changed
    assert diff[0] >= 100 and diff[1] >= 100 and diff[2] <= 200 and diff[3] <= 200


def test_erase_without_a_mask_reads_the_input_alpha(client: Any) -> None:
    source = noise((400, 300)).convert("RGBA")
    alpha = Image.new("L", (400, 300), 255)
    alpha.paste(0, (0, 0, 80, 60))  # transparent corner: what to erase
    source.putalpha(alpha)
    _, image = invoke(client, "stable-image-erase-object",
                      {"image": b64(source), "grow_mask": 0})
    diff = ImageChops.difference(image.convert("RGB"), source.convert("RGB")).getbbox()
    assert diff is not None and diff[2] <= 80 and diff[3] <= 60


def test_grow_mask_grows_the_changed_region(client: Any) -> None:
    source = noise((400, 300))
    mask = Image.new("L", (400, 300), 0)
    mask.paste(255, (100, 100, 200, 200))
    base = minimal("stable-image-inpaint", image=b64(source)) | {"mask": b64(mask)}
    regions = {}
    for grow in (0, 10):
        _, image = invoke(client, "stable-image-inpaint", {**base, "grow_mask": grow})
        regions[grow] = ImageChops.difference(image.convert("RGB"), source).getbbox()
    assert regions[10][0] < regions[0][0] and regions[10][2] > regions[0][2]


@pytest.mark.parametrize(("family", "select"), [("stable-image-search-replace", "search_prompt"),
                                                ("stable-image-search-recolor", "select_prompt")])
def test_search_marks_a_region_chosen_by_the_selecting_prompt(
    client: Any, family: str, select: str
) -> None:
    source = noise((600, 400))
    regions = set()
    for prompt in ("the dog", "the bicycle"):
        body = {"prompt": "a cat", "image": b64(source), select: prompt}
        answer, image = invoke(client, family, body)
        box = ImageChops.difference(image.convert("RGB"), source).getbbox()
        assert box is not None and (box[2] - box[0]) < 600 and (box[3] - box[1]) < 400
        regions.add(box)
        assert read_parameters(base64.b64decode(answer["images"][0]))[select] == prompt
    assert len(regions) == 2  # another selecting prompt, another region


def test_remove_background_returns_an_alpha_channel(client: Any) -> None:
    source = noise((400, 300))
    _, image = invoke(client, "stable-image-remove-background", {"image": b64(source)})
    assert image.mode == "RGBA" and image.size == (400, 300)
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0 and alpha.getpixel((200, 150)) == 255
    # The kept subject is the input's own pixels.
    assert image.convert("RGB").getpixel((200, 150)) == source.getpixel((200, 150))


@pytest.mark.parametrize("family", ["stable-image-control-sketch", "stable-image-control-structure"])
def test_control_generates_at_the_inputs_shape_weighted_by_control_strength(
    client: Any, family: str
) -> None:
    source = Image.new("RGB", (832, 512), (250, 0, 0))
    distances = []
    for strength in (0.1, 0.9):
        _, image = invoke(client, family, {"prompt": "a castle", "image": b64(source),
                                           "control_strength": strength})
        assert image.size == (832, 512)
        distances.append(255 - ImageStat.Stat(image.convert("RGB")).mean[0])
    assert distances[1] < distances[0]  # more of the input at a higher strength


def test_style_guide_follows_the_aspect_ratio_or_the_inputs_shape(client: Any) -> None:
    body = {"prompt": "a castle", "image": b64(noise((640, 480)))}
    assert invoke(client, "stable-image-style-guide", body)[1].size == (640, 480)
    ratio = invoke(client, "stable-image-style-guide", {**body, "aspect_ratio": "16:9"})[1]
    assert ratio.size == contract_for("stability.stable-image-style-guide-v1:0").size.asked(
        {"aspect_ratio": "16:9"})


def test_style_transfer_reflects_both_images(client: Any) -> None:
    init = b64(noise((500, 400)))
    outputs = {colour: invoke(client, "stable-style-transfer",
                              {"init_image": init, "style_image": png((300, 300), colour=colour)})[1]
               for colour in ((255, 0, 0), (0, 0, 255))}
    assert {o.size for o in outputs.values()} == {(500, 400)}  # the init image's shape
    red, blue = (o.convert("RGB") for o in outputs.values())
    assert ImageStat.Stat(red).mean[0] > ImageStat.Stat(blue).mean[0]  # the style shows


# --- input images, checked with clear refusals ------------------------------------------------


@pytest.mark.parametrize(
    ("family", "size", "violation"),
    [
        ("stable-image-inpaint", (63, 300), "#/image: image size 63x300: each side must be at least 64 px"),
        ("stable-image-inpaint", (4000, 3000), "#/image: image has 12000000 pixels; at most 9437184 are allowed"),
        ("stable-image-inpaint", (1000, 300), "#/image: image aspect ratio 1000x300 is outside 0.4:1 to 2.5:1 (width / height)"),
        ("stable-fast-upscale", (1600, 400), "#/image: image size 1600x400: each side must be at most 1536 px"),
        ("stable-fast-upscale", (1100, 1000), "#/image: image has 1100000 pixels; at most 1048576 are allowed"),
        ("stable-fast-upscale", (31, 40), "#/image: image size 31x40: each side must be at least 32 px"),
        ("stable-creative-upscale", (1100, 1000), "#/image: image has 1100000 pixels; at most 1048576 are allowed"),
    ],
)
def test_each_input_image_limit_is_refused_clearly(
    client: Any, family: str, size: tuple[int, int], violation: str
) -> None:
    body = minimal(family, image=png(size))
    assert refusal(client, family, body) == FRAME.format(violation)


@pytest.mark.parametrize("data", ["not base64!", base64.b64encode(b"GIF89a....").decode()],
                         ids=["not base64", "not an image"])
def test_an_image_that_is_not_one_is_refused(client: Any, data: str) -> None:
    message = refusal(client, "stable-image-remove-background", {"image": data})
    assert message.startswith("Malformed input request: #/image: is not")


def test_the_decompression_bomb_guard_stays_on(client: Any) -> None:
    from tests.support.images import png_claiming_size

    message = refusal(client, "stable-image-remove-background",
                      {"image": png_claiming_size(60000, 60000)})
    assert message.startswith("Malformed input request: #/image:")


def test_every_service_takes_its_input_size_from_the_image() -> None:
    for contract in SERVICES:
        if contract.family != "stable-image-style-guide":
            assert isinstance(contract.size, InputSizeRule), contract.family


def test_grow_mask_left_out_is_its_schema_default(client: Any) -> None:
    source = noise((400, 300))
    mask = Image.new("L", (400, 300), 0)
    mask.paste(255, (100, 100, 200, 200))
    base = minimal("stable-image-inpaint", image=b64(source)) | {"mask": b64(mask)}
    default = contract_for("stability.stable-image-inpaint-v1:0").field("grow_mask")["default"]
    boxes = [ImageChops.difference(invoke(client, "stable-image-inpaint", body)[1].convert("RGB"),
                                   source).getbbox()
             for body in (base, {**base, "grow_mask": default})]
    assert boxes[0] == boxes[1] == (100 - default, 100 - default, 200 + default, 200 + default)
