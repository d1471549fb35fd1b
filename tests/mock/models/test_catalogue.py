"""Every model of the catalogue over the wire, through both doors, with real boto3 clients:
the Stability envelope, formats and sizes, the seed rule, refusals, retired ids, profile ids
and ARNs, streaming, the lifecycle on a date, image to image and the finish-reason faults.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageChops, ImageStat

from bedrock_contract import check_request, contract_for, default_catalogue
from mock_bedrock.placeholder import read_parameters
from mock_bedrock.service.faults import FaultRule
from tests.support.doors import Door
from tests.support.images import b64_image

CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"
STABILITY = (SD35, CORE, ULTRA)
WORDS = default_catalogue().words
EOL = ("ResourceNotFoundException", WORDS.end_of_life.message)
INVALID = ("ValidationException", WORDS.unknown_model.message)
PILLOW = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> bytes:
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json",
        accept="application/json",
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    data: bytes = response["body"].read()
    return data


def refusal(client: Any, model_id: str, body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        invoke(client, model_id, body)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


def only_image(payload: bytes) -> Image.Image:
    images = json.loads(payload)["images"]
    assert len(images) == 1
    image = Image.open(io.BytesIO(base64.b64decode(images[0])))
    image.load()
    return image


@pytest.fixture
def on_date(door: Door) -> Iterator[Any]:
    """Sets the door's mock to answer as of a date; put back afterwards."""
    before = door.app.as_of

    def set_date(day: dt.date | None) -> None:
        door.app.as_of = day

    yield set_date
    door.app.as_of = before


# --- what a valid body gives --------------------------------------------------------------


@pytest.mark.parametrize("model_id", STABILITY)
def test_a_prompt_gives_the_stability_envelope_with_one_png(client: Any, model_id: str) -> None:
    body = json.loads(invoke(client, model_id, {"prompt": "a lighthouse", "seed": 7}))
    assert set(body) == {"seeds", "finish_reasons", "images"}
    assert body["seeds"] == [7] and body["finish_reasons"] == [None]
    image = only_image(json.dumps(body).encode())
    assert (image.format, image.size) == ("PNG", (1024, 1024))


@pytest.mark.parametrize(
    ("model_id", "output_format"),
    [(m, f) for m in STABILITY for f in contract_for(m).output_formats],
)
def test_each_output_format_is_answered_in_that_format(
    client: Any, model_id: str, output_format: str
) -> None:
    payload = invoke(client, model_id, {"prompt": "a lighthouse", "output_format": output_format})
    image = only_image(payload)
    assert image.format == PILLOW[output_format]
    params = read_parameters(base64.b64decode(json.loads(payload)["images"][0]))
    assert params["model_id"] == model_id and params["output_format"] == output_format
    assert params["prompts"] == [{"text": "a lighthouse", "weight": 1.0}]


@pytest.mark.parametrize(
    ("model_id", "ratio"), [(m, r) for m in STABILITY for r in contract_for(m).size.choices()]
)
def test_each_aspect_ratio_gives_its_pixels(client: Any, model_id: str, ratio: str) -> None:
    image = only_image(invoke(client, model_id, {"prompt": "a pier", "aspect_ratio": ratio}))
    width, height = image.size
    assert image.size == contract_for(model_id).size.asked({"aspect_ratio": ratio})
    shape = [int(n) for n in ratio.split(":")]
    assert abs(width / height / (shape[0] / shape[1]) - 1) < 0.05  # the ratio, to 64 px
    assert 0.9e6 < width * height < 1.1e6  # about one megapixel


@pytest.mark.parametrize("model_id", STABILITY)
def test_seed_0_or_none_gives_a_non_zero_seed_and_the_same_request_the_same_bytes(
    door: Door, client: Any, model_id: str
) -> None:
    zero = invoke(client, model_id, {"prompt": "fog", "seed": 0})
    absent = invoke(client, model_id, {"prompt": "fog"})
    picked = json.loads(zero)["seeds"][0]
    assert picked > 0
    assert json.loads(absent)["seeds"] == [picked]  # seed 0 and no seed: the same seed
    assert invoke(client, model_id, {"prompt": "fog", "seed": 0}) == zero
    assert json.loads(invoke(client, model_id, {"prompt": "fog!"}))["seeds"] != [picked]


def test_both_doors_answer_byte_for_byte_alike(mock_bedrock_endpoint: str) -> None:
    import boto3

    from mock_bedrock import mock_sdxl

    body = {"prompt": "twin", "aspect_ratio": "21:9", "output_format": "jpeg"}
    server = boto3.client("bedrock-runtime", endpoint_url=mock_bedrock_endpoint,
                          region_name="us-west-2")
    over_http = invoke(server, CORE, body)
    with mock_sdxl():
        inprocess = boto3.client("bedrock-runtime", region_name="us-west-2")
        assert invoke(inprocess, CORE, body) == over_http


def test_negative_prompt_is_carried_and_marked_negative(client: Any) -> None:
    payload = invoke(client, SD35, {"prompt": "a harbour", "negative_prompt": "people"})
    params = read_parameters(base64.b64decode(json.loads(payload)["images"][0]))
    assert params["prompts"] == [
        {"text": "a harbour", "weight": 1.0}, {"text": "people", "weight": -1.0}
    ]


# --- image to image (SD3.5 Large) ---------------------------------------------------------


def _distance(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


def test_sd35_image_to_image_starts_from_the_input_weighted_by_strength(client: Any) -> None:
    source = b64_image((832, 1216), color=(250, 10, 10))
    red = Image.new("RGB", (832, 1216), (250, 10, 10))
    outputs = {
        strength: only_image(invoke(client, SD35, {
            "prompt": "in watercolour", "mode": "image-to-image", "image": source,
            "strength": strength,
        }))
        for strength in (0.1, 0.9)
    }
    assert {o.size for o in outputs.values()} == {(832, 1216)}  # 2:3's megapixel, as sent
    # strength 0 keeps the input, 1 ignores it.
    assert _distance(outputs[0.1], red) < _distance(outputs[0.9], red)


def test_sd35_image_without_mode_is_image_to_image_as_aws_example_sends_it(client: Any) -> None:
    source = b64_image((640, 640))
    image = only_image(invoke(client, SD35, {"prompt": "x", "image": source, "strength": 0.5}))
    assert image.size == (1024, 1024)  # about a megapixel in the input's shape


@pytest.mark.parametrize(
    ("body", "violation"),
    [
        ({"prompt": "x", "mode": "image-to-image", "strength": 0.5},
         "#: required key [image] not found"),
        ({"prompt": "x", "image": "IMAGE"}, "#: required key [strength] not found"),
        ({"prompt": "x", "mode": "text-to-image", "image": "IMAGE", "strength": 0.5},
         "#/image: subject must not be valid against schema {}"),
        ({"prompt": "x", "image": "IMAGE", "strength": 1.5}, "#/strength: 1.5 is not less or equal to 1"),
        ({"prompt": "x", "image": "IMAGE", "strength": 0.5, "aspect_ratio": "1:1"},
         "#/aspect_ratio: subject must not be valid against schema {}"),
    ],
)
def test_sd35_image_to_image_refusals(client: Any, body: dict[str, Any], violation: str) -> None:
    body = {k: b64_image((640, 640)) if v == "IMAGE" else v for k, v in body.items()}
    code, message = refusal(client, SD35, body)
    assert code == "ValidationException"
    assert violation in message


def test_sd35_input_image_under_64_px_is_refused(client: Any) -> None:
    code, message = refusal(client, SD35, {"prompt": "x", "image": b64_image((63, 500)),
                                           "strength": 0.5})
    assert (code, message) == ("ValidationException", (
        "Malformed input request: #/image: image size 63x500: each side must be at least "
        "64 px, please reformat your input and try again."
    ))


# --- refusals, in Bedrock's frame ---------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "body", "violations"),
    [
        (CORE, {}, "#: required key [prompt] not found"),
        (ULTRA, {}, "#: required key [prompt] not found"),
        (CORE, {"prompt": "x", "aspect_ratio": "4:3"}, "#/aspect_ratio: 4:3 is not a valid enum value"),
        (CORE, {"prompt": "x", "output_format": "webp"}, "#/output_format: webp is not a valid enum value"),
        (CORE, {"prompt": "x", "seed": 4294967296}, "#/seed: 4294967296 is not less or equal to 4294967295"),
        (SD35, {"prompt": "x", "seed": 4294967295}, "#/seed: 4294967295 is not less or equal to 4294967294"),
        (ULTRA, {"prompt": "x" * 10001}, "#/prompt: expected maxLength: 10000, actual: 10001"),
        (ULTRA, {"prompt": 5}, "#/prompt: expected type: String, found: Integer"),
    ],
)
def test_refusals_come_in_bedrock_frame(
    client: Any, model_id: str, body: dict[str, Any], violations: str
) -> None:
    code, message = refusal(client, model_id, body)
    assert code == "ValidationException"
    assert message == (
        f"Malformed input request: {violations}, please reformat your input and try again."
    )
    # The client's local check says the same, word for word.
    with pytest.raises(ValueError, match="Malformed") as local:
        check_request(contract_for(model_id), body)
    assert str(local.value) == message


# --- model ids: retired, profiles, ARNs -----------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    ["stability.stable-image-core-v1:0", "stability.stable-image-ultra-v1:0",
     "stability.sd3-large-v1:0", "stability.stable-diffusion-xl-v0"],
)
def test_retired_ids_are_answered_end_of_life(client: Any, model_id: str) -> None:
    assert refusal(client, model_id, {"prompt": "x"}) == EOL


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        (f"us.{SD35}", SD35),
        (f"us.{ULTRA}", ULTRA),
        (f"arn:aws:bedrock:us-west-2::foundation-model/{CORE}", CORE),
        (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SD35}", SD35),
    ],
)
def test_profile_ids_and_arns_name_the_same_model(client: Any, model_id: str, family: str) -> None:
    payload = invoke(client, model_id, {"prompt": "same", "seed": 3})
    assert payload == invoke(client, family, {"prompt": "same", "seed": 3})
    params = read_parameters(base64.b64decode(json.loads(payload)["images"][0]))
    assert params["model_id"] == family  # the served version, however it was named


@pytest.mark.parametrize(
    "model_id",
    [f"us.{CORE}",  # Core's model card: no cross-region profile
     f"eu.{SD35}", f"xx.{SD35}", "stability.stable-image-core-v9:9"],
)
def test_profiles_a_model_lacks_and_unknown_ids_are_invalid(client: Any, model_id: str) -> None:
    assert refusal(client, model_id, {"prompt": "x"}) == INVALID


SERVICE_IDS = sorted(c.primary.id for c in default_catalogue() if not c.in_region)


@pytest.mark.parametrize("plain", SERVICE_IDS)
def test_an_image_service_is_called_through_its_profile_never_on_demand(
    client: Any, plain: str
) -> None:
    # The Erase Object and Search and Recolor cards: In-Region "No", Geo (US) "Yes"; Remove
    # Background was seen refused in these words. The id is named as the call named it.
    body = {"image": b64_image((64, 64)), "prompt": "x"}
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{plain}"
    for named in (plain, arn):
        assert refusal(client, named, body) == ("ValidationException", (
            f"Invocation of model ID {named} with on-demand throughput isn't supported. Retry "
            "your request with the ID or ARN of an inference profile that contains this model."
        ))
    # Through the profile, by id or ARN, the call reaches the model (its own checks answer).
    profile_arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{plain}"
    for named in (f"us.{plain}", profile_arn):
        with pytest.raises(ClientError) as reached:
            invoke(client, named, {"no_such_field": 1})
        assert "Invalid field 'no_such_field'" in reached.value.response["Error"]["Message"]


# --- streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", STABILITY)
def test_streaming_is_refused_where_the_model_lacks_it(client: Any, model_id: str) -> None:
    with pytest.raises(ClientError) as refused:
        client.invoke_model_with_response_stream(
            modelId=model_id, body=json.dumps({"prompt": "x"}), contentType="application/json"
        )
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == tuple(WORDS.streaming_unsupported)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_sdxl_still_streams(client: Any) -> None:
    response = client.invoke_model_with_response_stream(
        modelId=SDXL, body=json.dumps({"text_prompts": [{"text": "x"}]}),
        contentType="application/json",
    )
    chunks = b"".join(event["chunk"]["bytes"] for event in response["body"])
    assert json.loads(chunks)["artifacts"][0]["finishReason"] == "SUCCESS"


# --- the lifecycle on a date ----------------------------------------------------------------

SDXL_BODY = {"text_prompts": [{"text": "a lighthouse"}]}


def test_by_default_every_described_model_is_served_sdxl_included(client: Any) -> None:
    assert json.loads(invoke(client, SDXL, SDXL_BODY))["result"] == "success"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2023, 1, 1), INVALID),  # before SDXL 1.0 was released
        (dt.date(2024, 6, 1), None),  # served
        (dt.date(2025, 5, 19), None),  # the last day
        (dt.date(2025, 5, 20), EOL),  # its end of life
        (dt.date.today(), EOL),
    ],
    ids=str,
)
def test_as_of_answers_sdxl_as_the_service_did_that_day(
    client: Any, on_date: Any, day: dt.date, expected: tuple[str, str] | None
) -> None:
    on_date(day)
    if expected is None:
        assert json.loads(invoke(client, SDXL, SDXL_BODY))["result"] == "success"
    else:
        assert refusal(client, SDXL, SDXL_BODY) == expected


def test_as_of_today_serves_the_live_models(client: Any, on_date: Any) -> None:
    on_date(dt.date.today())
    for model_id in STABILITY:
        assert json.loads(invoke(client, model_id, {"prompt": "x"}))["finish_reasons"] == [None]
    assert refusal(client, "stability.sd3-large-v1:0", {"prompt": "x"}) == EOL


# --- finish reasons forced by fault rules -----------------------------------------------------

FILTERED = [r for r in contract_for(CORE).finish_reasons if r is not None]


@pytest.mark.parametrize("with_image", [True, False], ids=["with image", "without image"])
@pytest.mark.parametrize("reason", FILTERED)
def test_fault_rules_force_each_stability_finish_reason(
    door: Door, client: Any, reason: str, with_image: bool
) -> None:
    door.app.faults.add(FaultRule(finish_reason=reason, with_image=with_image, model_id=CORE))
    body = json.loads(invoke(client, CORE, {"prompt": "a storm"}))
    assert body["finish_reasons"] == [reason]
    assert len(body["seeds"]) == 1
    if not with_image:
        assert "images" not in body
        return
    params = read_parameters(base64.b64decode(body["images"][0]))
    assert params["blurred"] == reason.startswith("Filter reason")


def test_a_finish_reason_of_another_envelope_never_fires(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule(finish_reason="CONTENT_FILTERED"))
    assert json.loads(invoke(client, CORE, {"prompt": "x"}))["finish_reasons"] == [None]
    sdxl = json.loads(invoke(client, SDXL, SDXL_BODY))
    assert sdxl["artifacts"][0]["finishReason"] == "CONTENT_FILTERED"
