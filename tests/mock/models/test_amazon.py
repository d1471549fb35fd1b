"""Titan Image Generator v1 and v2 and Nova Canvas, retired, through real boto3 on both doors:
every task type served as of a date before its end of life (the images envelope, the size,
PNG, the same answer for the same body, placeholders that show what the task did, refusals
in the service's words), and refused after it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from bedrock_contract import contract_for
from bedrock_contract.loader import read_json
from mock_bedrock import read_parameters
from mock_bedrock.service.faults import FaultRule
from tests.support.amazon_bodies import (
    CANVAS,
    EOL_MESSAGE,
    FRAME,
    GARMENT,
    MODELS,
    PHOTO,
    SERVED,
    TASKS,
    TITAN_V1,
    TITAN_V2,
    Params,
    photo,
)
from tests.support.doors import Door


def last_day(model_id: str) -> dt.date:
    """The day before the model's end of life, as its profile dates it."""
    eol = contract_for(model_id).primary.lifecycle.eol
    assert eol is not None
    return eol - dt.timedelta(days=1)


def invoke(door: Door, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    client = door.client()
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    assert response["contentType"] == "application/json"
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def refused(door: Door, model_id: str, body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        invoke(door, model_id, body)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def decoded(data: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.load()
    return image


@pytest.mark.parametrize(("model_id", "task"), SERVED, ids=[f"{m}-{t}" for m, t in SERVED])
def test_every_task_is_served_before_the_end_of_life(door: Door, model_id: str,
                                                     task: str) -> None:
    door.app.as_of = last_day(model_id)
    body = TASKS[task]
    answer = invoke(door, model_id, body)
    assert list(answer) == ["images"]  # no error key on success
    wanted = body.get("imageGenerationConfig", {}).get("numberOfImages", 1)
    assert len(answer["images"]) == wanted
    images = [decoded(i) for i in answer["images"]]
    assert {i.format for i in images} == {"PNG"}
    assert invoke(door, model_id, body) == answer  # the same body, the same images
    params = [read_parameters(base64.b64decode(i)) for i in answer["images"]]
    assert {p["model_id"] for p in params} == {model_id}
    EXPECT[task](body, images, params)


def _size_asked(body: dict[str, Any], images: list[Image.Image]) -> None:
    config = body["imageGenerationConfig"]
    assert {i.size for i in images} == {(config["width"], config["height"])}


def _text_image(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    _size_asked(body, images)
    first, second = params
    # Two images from successive seeds, the asked seed first; the prompts read from the
    # nested fields.
    assert (first["seed"], second["seed"]) == (7, 8)
    assert first["prompts"] == [{"text": "a lighthouse", "weight": 1.0},
                                {"text": "fog", "weight": -1.0}]
    assert images[0].tobytes() != images[1].tobytes()


def _conditioned(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    _size_asked(body, images)
    assert params[0]["textToImageParams/conditionImage"]["size"] == [512, 512]


def _palette(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    _size_asked(body, images)
    (image,) = images
    width, height = image.size
    # The palette's colours as bands, below the caption.
    assert image.getpixel((5, height - 5)) == (255, 153, 0)
    assert image.getpixel((width - 5, height - 5)) == (35, 47, 62)


def _variation(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    _size_asked(body, images)
    # Weighted 0.9 towards the input: the corner is close to the input's colour.
    corner = images[0].convert("RGB").getpixel((images[0].width - 2, images[0].height - 2))
    assert all(abs(a - b) < 40 for a, b in zip(corner, PHOTO, strict=True))


def _inpainted(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    (image,) = images
    assert image.size == (512, 384)  # the input's size
    rgb = image.convert("RGB")
    assert rgb.getpixel((450, 350)) == PHOTO  # outside the mask: the input's own pixels
    assert rgb.getpixel((200, 240)) != PHOTO  # inside the black: redrawn


def _inpainted_by_prompt(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    (image,) = images
    assert image.size == (512, 384)
    colours = image.convert("RGB").getcolors(512 * 384) or []
    kept = next(count for count, colour in colours if colour == PHOTO)
    assert 0 < kept < 512 * 384  # a region the prompt selects changes, the rest is kept


def _outpainted(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    (image,) = images
    assert image.size == (512, 384)
    rgb = image.convert("RGB")
    assert rgb.getpixel((200, 240)) == PHOTO  # inside the mask: kept
    assert rgb.getpixel((450, 350)) != PHOTO  # outside it: redrawn


def _background_removed(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    (image,) = images
    assert (image.size, image.mode) == ((640, 480), "RGBA")
    assert image.getpixel((2, 2))[3] == 0 and image.getpixel((320, 240)) == (*PHOTO, 255)


def _tried_on(body: dict[str, Any], images: list[Image.Image], params: Params) -> None:
    (image,) = images
    assert image.size == (512, 768)  # the source photo's size
    colours = {colour for _, colour in image.convert("RGB").getcolors(512 * 768) or []}
    assert {PHOTO, GARMENT} <= colours  # the person's photo, the garment pasted on


EXPECT = {
    "TEXT_IMAGE": _text_image, "conditioned TEXT_IMAGE": _conditioned,
    "COLOR_GUIDED_GENERATION": _palette, "IMAGE_VARIATION": _variation,
    "INPAINTING": _inpainted, "INPAINTING by prompt": _inpainted_by_prompt,
    "OUTPAINTING": _outpainted, "BACKGROUND_REMOVAL": _background_removed,
    "VIRTUAL_TRY_ON": _tried_on,
}


def test_a_try_on_asked_for_its_mask_returns_it_drawn(door: Door) -> None:
    door.app.as_of = last_day(CANVAS)
    body = json.loads(json.dumps(TASKS["VIRTUAL_TRY_ON"]))
    body["virtualTryOnParams"]["returnMask"] = True
    answer = invoke(door, CANVAS, body)
    assert list(answer) == ["images", "maskImage"]
    (image,), returned = [decoded(i) for i in answer["images"]], decoded(answer["maskImage"])
    assert (returned.format, returned.size) == ("PNG", image.size)  # the source photo's size
    mask_colours = returned.convert("L")
    assert {colour for _, colour in mask_colours.getcolors() or []} == {0, 255}
    # Black where the try-on changed the photo (Canvas's masks mark the edit black), white
    # where it kept it.
    rgb = image.convert("RGB")
    for xy in ((x, y) for x in range(0, 512, 8) for y in range(0, 768, 8)):
        if rgb.getpixel(xy) != PHOTO:
            assert mask_colours.getpixel(xy) == 0, xy
    assert any(mask_colours.getpixel((x, y)) == 0 and rgb.getpixel((x, y)) == GARMENT
               for x in range(0, 512, 8) for y in range(0, 768, 8))
    body["virtualTryOnParams"]["returnMask"] = False
    assert list(invoke(door, CANVAS, body)) == ["images"]


@pytest.mark.parametrize("model_id", MODELS)
def test_refused_from_the_end_of_life_on(door: Door, model_id: str) -> None:
    door.app.as_of = last_day(model_id) + dt.timedelta(days=1)
    assert refused(door, model_id, TASKS["TEXT_IMAGE"]) == ("ResourceNotFoundException",
                                                            EOL_MESSAGE)


def test_the_lifecycle_dates_are_awss() -> None:
    # AWS's lifecycle pages (docs/models.md); Titan v1's date is our conservative choice.
    dates = {m: contract_for(m).primary.lifecycle for m in MODELS}
    assert (dates[CANVAS].released, dates[CANVAS].legacy, dates[CANVAS].eol) == (
        dt.date(2024, 12, 4), dt.date(2026, 3, 30), dt.date(2026, 9, 30))
    assert (dates[TITAN_V2].legacy, dates[TITAN_V2].eol) == (dt.date(2025, 12, 30),
                                                             dt.date(2026, 6, 30))
    assert dates[TITAN_V1].eol == dt.date(2025, 9, 23)
    assert "unconfirmed" in contract_sources(TITAN_V1)[f"{TITAN_V1} eol"]


def contract_sources(model_id: str) -> dict[str, str]:
    sources: dict[str, str] = read_json(contract_for(model_id).folder / "profile.json")["sources"]
    return sources


REFUSALS = [
    # Live: Titan v1, 2024-05 (live.md L2).
    (TITAN_V1, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x" * 536}},
     "#/textToImageParams/text: expected maxLength: 512, actual: 536"),
    # Live: Nova Canvas without taskType, read as a conversation (litellm issue 7190).
    (CANVAS, {"inputText": "x", "textGenerationConfig": {}},
     "#: required key [messages] not found"),
    # Live: an unknown key inside the task's object (live.md L6).
    (CANVAS, {"taskType": "TEXT_IMAGE",
              "textToImageParams": {"text": "x", "negativeText": "", "images": []}},
     "#/textToImageParams: extraneous key [images] is not permitted"),
    (CANVAS, {**TASKS["TEXT_IMAGE"], "imageGenerationConfig": {"width": 1000}},
     "#/imageGenerationConfig/width: 1000 is not a multiple of 16"),
    (CANVAS, {**TASKS["TEXT_IMAGE"], "imageGenerationConfig": {"width": 4096, "height": 2048}},
     "#/imageGenerationConfig: size 4096x2048 has 8388608 pixels; at most 4194304 are allowed"),
    (CANVAS, {**TASKS["BACKGROUND_REMOVAL"], "imageGenerationConfig": {}},
     "#: extraneous key [imageGenerationConfig] is not permitted"),
    (TITAN_V1, TASKS["BACKGROUND_REMOVAL"],
     "#/taskType: BACKGROUND_REMOVAL is not a valid enum value"),
    (TITAN_V2, {"taskType": "INPAINTING", "inPaintingParams": {"image": photo()}},
     "#/inPaintingParams: required key [maskPrompt] not found"
     "#/inPaintingParams: required key [maskImage] not found"),
    (TITAN_V2, {**TASKS["TEXT_IMAGE"], "imageGenerationConfig": {"seed": 2147483648}},
     "#/imageGenerationConfig/seed: 2147483648 is not less or equal to 2147483647"),
]


@pytest.mark.parametrize(("model_id", "body", "violations"), REFUSALS)
def test_refusals_are_worded_as_the_service_words_them(door: Door, model_id: str,
                                                       body: dict[str, Any],
                                                       violations: str) -> None:
    door.app.as_of = last_day(model_id)
    assert refused(door, model_id, body) == ("ValidationException", FRAME.format(violations))


@pytest.mark.parametrize("model_id", (TITAN_V1, CANVAS))
def test_content_filters_answer_in_the_models_words(door: Door, model_id: str) -> None:
    door.app.as_of = last_day(model_id)
    filters = read_json(contract_for(model_id).folder / "profile.json")["content_filters"]
    # A flagged prompt: 400 with the model's own text (Titan's, seen live; Canvas's page).
    door.app.faults.add(FaultRule(prompt="blocked", error="ValidationException",
                                  message=filters["input_text"]))
    body = {**TASKS["TEXT_IMAGE"], "textToImageParams": {"text": "a blocked prompt"}}
    assert refused(door, model_id, body) == ("ValidationException", filters["input_text"])
    # Filtered output: 200, no image, the error text (the Nova error page).
    blocked = "All of the generated images have been blocked by our content filters."
    door.app.faults.add(FaultRule(prompt="filtered", finish_reason=blocked, with_image=False))
    body = {**TASKS["TEXT_IMAGE"], "textToImageParams": {"text": "filtered output"}}
    assert invoke(door, model_id, body) == {"images": [], "error": blocked}


def test_a_request_built_from_a_prompt_names_its_task() -> None:
    # The profile's prompts say which task their first location belongs to ("with").
    from sdxl_adapter import ModelRequest

    body = ModelRequest(CANVAS, prompt="a lighthouse", negative_prompt="fog").to_body()
    assert body == {"taskType": "TEXT_IMAGE",
                    "textToImageParams": {"text": "a lighthouse", "negativeText": "fog"}}
    ModelRequest(TITAN_V1, prompt="a lighthouse").validate()
