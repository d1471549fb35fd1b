"""The contract as JSON Schema: what passes, what is refused, and how the refusal is worded."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tests.support import sdxl_contract as sdxl
from tests.support.images import b64_image, png_claiming_size
from tests.support.paths import EXAMPLES
from tests.support.sdxl_contract import field, request_validator

FRAME = "Malformed input request: {}, please reformat your input and try again."
PROMPT = {"text_prompts": [{"text": "a lighthouse at dusk"}]}


def body(**fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(PROMPT), **fields}


def refusal(raw: Any) -> str:
    with pytest.raises(sdxl.InvalidRequestBody) as caught:
        sdxl.check_request(raw if isinstance(raw, (str, bytes)) else json.dumps(raw))
    return caught.value.message


# --- what passes -------------------------------------------------------------------------


def test_source_documents_sample_body_is_valid() -> None:
    # examples/sample-request.json is the body built by the AWS page's sample program.
    raw = (EXAMPLES / "sample-request.json").read_bytes()
    assert sdxl.check_request(raw).body["style_preset"] == "photographic"


VALID = [
    pytest.param(PROMPT, id="minimal"),
    pytest.param(body(text_prompts=[{"text": ""}]), id="empty-text"),
    pytest.param(body(text_prompts=[{"text": "x" * 2000}]), id="text-2000"),
    pytest.param(
        body(text_prompts=[{"text": "a", "weight": 1}, {"text": "b", "weight": -0.5}]),
        id="negative",
    ),
    pytest.param(body(cfg_scale=0, steps=10, seed=0), id="lower-bounds"),
    pytest.param(body(cfg_scale=35, steps=150, seed=4294967295, samples=1), id="upper-bounds"),
    pytest.param(body(cfg_scale=7.5), id="cfg-float"),
    pytest.param(body(width=1024), id="width-only-1024"),
    pytest.param(body(height=1024), id="height-only-1024"),
    pytest.param(body(extras={"anything": [1, 2]}), id="extras"),
    pytest.param(body(style_preset="anime"), id="anime"),
    pytest.param(body(init_image=b64_image((1024, 1024))), id="image-to-image"),
    pytest.param(
        body(
            init_image=b64_image((1152, 896), "JPEG"),
            init_image_mode="STEP_SCHEDULE",
            step_schedule_start=0.4,
            step_schedule_end=0.9,
        ),
        id="image-to-image-jpeg-step-schedule",
    ),
    pytest.param(body(init_image=b64_image(), image_strength=0), id="image-strength-0"),
    pytest.param(
        body(
            init_image=b64_image(),
            mask_source="MASK_IMAGE_WHITE",
            mask_image=b64_image(mode="L", color=255),
        ),
        id="mask-white",
    ),
    pytest.param(
        body(
            init_image=b64_image(),
            mask_source="MASK_IMAGE_BLACK",
            mask_image=b64_image(mode="L", color=0),
        ),
        id="mask-black",
    ),
    pytest.param(
        body(init_image=b64_image(mode="RGBA", color=(1, 2, 3, 0)), mask_source="INIT_IMAGE_ALPHA"),
        id="mask-alpha",
    ),
]


@pytest.mark.parametrize("valid", VALID)
def test_valid_bodies_pass(valid: dict[str, Any]) -> None:
    checked = sdxl.check_request(json.dumps(valid))
    assert checked.body == valid


@pytest.mark.parametrize("size", sdxl.allowed_sizes())
def test_every_allowed_size_passes(size: tuple[int, int]) -> None:
    sdxl.check_request(body(width=size[0], height=size[1]))


@pytest.mark.parametrize("name", ["clip_guidance_preset", "sampler", "style_preset"])
def test_every_enum_value_passes(name: str) -> None:
    for value in field(name)["enum"]:
        sdxl.check_request(body(**{name: value}))


def test_contract_corrections_of_the_translation() -> None:
    assert "anime" in field("style_preset")["enum"]
    assert {"SIMPLE", "SLOW"} <= set(field("clip_guidance_preset")["enum"])
    assert {"K_HEUN", "K_LMS"} <= set(field("sampler")["enum"])
    artifact = sdxl.response_schema()["properties"]["artifacts"]["items"]
    assert "finishReason" in artifact["required"]
    assert "CONTENT_FILTERED" in artifact["properties"]["finishReason"]["enum"]


def test_decoded_images_are_handed_back() -> None:
    checked = sdxl.check_request(body(init_image=b64_image((896, 1152))))
    assert checked.images["init_image"].size == (896, 1152)


# --- each rule broken alone: pointer and wording -----------------------------------------

SIZES = sdxl.allowed_sizes_text()
BROKEN = [
    ({}, "#: required key [text_prompts] not found"),
    ({"text_prompts": []}, "#/text_prompts: expected minimum item count: 1, found: 0"),
    ({"text_prompts": "hi"}, "#/text_prompts: expected type: JSONArray, found: String"),
    ({"text_prompts": [{}]}, "#/text_prompts/0: required key [text] not found"),
    (
        {"text_prompts": [{"text": 5}]},
        "#/text_prompts/0/text: expected type: String, found: Integer",
    ),
    (
        {"text_prompts": [{"text": "x" * 2001}]},
        "#/text_prompts/0/text: expected maxLength: 2000, actual: 2001",
    ),
    (
        {"text_prompts": [{"text": "a", "weight": "1"}]},
        "#/text_prompts/0/weight: expected type: Number, found: String",
    ),
    (
        {"text_prompts": [{"text": "a", "negative": True}]},
        "#/text_prompts/0: extraneous key [negative] is not permitted",
    ),
    (body(prompt="x"), "#: extraneous key [prompt] is not permitted"),
    (body(cfg_scale=40), "#/cfg_scale: 40 is not less or equal to 35"),
    (body(cfg_scale=-1), "#/cfg_scale: -1 is not greater or equal to 0"),
    (body(cfg_scale=None), "#/cfg_scale: expected type: Number, found: Null"),
    (body(steps=9), "#/steps: 9 is not greater or equal to 10"),
    (body(steps=151), "#/steps: 151 is not less or equal to 150"),
    (body(steps=True), "#/steps: expected type: Integer, found: Boolean"),
    (body(samples=2), "#/samples: 2 is not less or equal to 1"),
    (body(samples=0), "#/samples: 0 is not greater or equal to 1"),
    (body(seed=-1), "#/seed: -1 is not greater or equal to 0"),
    (body(seed=4294967296), "#/seed: 4294967296 is not less or equal to 4294967295"),
    (body(style_preset="animé"), "#/style_preset: animé is not a valid enum value"),
    (body(sampler="K_HEUN K_LMS"), "#/sampler: K_HEUN K_LMS is not a valid enum value"),
    (
        body(clip_guidance_preset="SIMPLE SLOW"),
        "#/clip_guidance_preset: SIMPLE SLOW is not a valid enum value",
    ),
    (body(extras=[]), "#/extras: expected type: JSONObject, found: JSONArray"),
    # The size rule is an anyOf of nine pairs, each a const per side: everit lists every
    # branch's failures, a const's message being empty ("#/width: "), the branches that
    # fail once before those that fail twice.
    (body(width=512, height=512), "#/width: #/height: " * 9),
    (
        body(width=896),
        "#/width: " + "#: required key [height] not found"
        + "#: required key [height] not found#/width: " * 7,
    ),
    (
        body(width=1152),
        "#/width: #: required key [height] not found"
        + "#: required key [height] not found#/width: " * 7,
    ),
    # "dependencies" with a list of fields: everit's words name the missing one only.
    (body(step_schedule_start=0.5), "#: property [init_image] is required"),
    (body(mask_source="INIT_IMAGE_ALPHA"), "#: property [init_image] is required"),
    (
        body(init_image=b64_image(), image_strength=1.5),
        "#/image_strength: 1.5 is not less or equal to 1",
    ),
    (
        body(init_image=b64_image(), init_image_mode="STRENGTH"),
        "#/init_image_mode: STRENGTH is not a valid enum value",
    ),
    (
        body(init_image=b64_image(), mask_source="MASK_IMAGE_WHITE"),
        "#: required key [mask_image] not found",
    ),
    (body(init_image="not base64!"), "#/init_image: is not valid base64"),
    (body(init_image="aGVsbG8="), "#/init_image: is not a PNG or JPEG image"),
    (body(init_image=b64_image(fmt="GIF")), "#/init_image: is a GIF image; expected PNG or JPEG"),
    (
        body(init_image=b64_image((512, 512))),
        f"#/init_image: image size 512x512 (width x height) is not one of the allowed sizes: {SIZES}",
    ),
    (
        body(
            init_image=b64_image(),
            mask_source="MASK_IMAGE_BLACK",
            mask_image=b64_image((1152, 896)),
        ),
        "#/mask_image: image size 1152x896 does not match init_image size 1024x1024",
    ),
    (
        body(init_image=b64_image(), mask_source="INIT_IMAGE_ALPHA"),
        "#/init_image: has no alpha channel, which mask_source INIT_IMAGE_ALPHA reads the mask from",
    ),
    (body(seed=5.0), "#/seed: expected type: Integer, found: BigDecimal"),
]


@pytest.mark.parametrize(("raw", "violation"), BROKEN, ids=[v[:80] for _, v in BROKEN])
def test_each_rule_broken_alone(raw: Any, violation: str) -> None:
    assert refusal(raw) == FRAME.format(violation)


# A body that is not one JSON object gets the frame alone, as the service answers a body
# it cannot parse.
NOT_AN_OBJECT = [
    pytest.param([], id="array"),
    pytest.param("null", id="null"),
    pytest.param("{", id="truncated"),
    pytest.param('{"text_prompts": [{"text": "a"}], "cfg_scale": NaN}', id="NaN"),
    pytest.param(b"\xff\xfe{}", id="not-utf-8"),
    pytest.param('{"text_prompts": [{"text": "a"}], "seed": 1, "seed": 2}', id="repeated-key"),
]


@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
def test_a_body_that_is_not_a_json_object_gets_the_bare_frame(raw: Any) -> None:
    assert refusal(raw) == "Malformed input request, please reformat your input and try again."


def test_decompression_bomb_is_a_validation_error_not_a_crash() -> None:
    message = refusal(body(init_image=png_claiming_size(100_000, 100_000)))
    assert message.startswith("Malformed input request: #/init_image: image is too large to decode")


def test_several_broken_rules_are_all_reported_with_no_separator() -> None:
    # Extraneous keys first; then properties in HashMap order (steps before cfg_scale);
    # style_preset's type + enum is a combined schema, listed after the single ones.
    message = refusal(body(cfg_scale=40, steps=5, style_preset="animé", bogus=1))
    assert message == FRAME.format(
        "#: extraneous key [bogus] is not permitted"
        "#/steps: 5 is not greater or equal to 10"
        "#/cfg_scale: 40 is not less or equal to 35"
        "#/style_preset: animé is not a valid enum value"
    )


def test_violations_are_listed_with_their_pointers() -> None:
    with pytest.raises(sdxl.InvalidRequestBody) as caught:
        sdxl.check_request(
            json.dumps({"text_prompts": [{"text": "a"}, {"text": 1}], "steps": 1})
        )
    # steps is a single violation; text_prompts' is nested in the items, so it comes after.
    assert [v.pointer for v in caught.value.violations] == ["#/steps", "#/text_prompts/1/text"]


def test_json_pointer_escapes_slash_and_tilde() -> None:
    assert refusal(body(**{"a/b~c": 1})) == FRAME.format(
        "#: extraneous key [a/b~c] is not permitted"
    )
    violations = sdxl.request_violations(
        {"text_prompts": [{"text": "a"}], "extras": {"k": 1}, "x/y": 2}
    )
    assert [str(v) for v in violations] == ["#: extraneous key [x/y] is not permitted"]


# --- responses ---------------------------------------------------------------------------

GOOD_RESPONSE = {
    "result": "success",
    "artifacts": [{"seed": 7, "base64": b64_image((8, 8)), "finishReason": "SUCCESS"}],
}


def test_a_failed_generation_may_come_without_an_image() -> None:
    failed = {"result": "success", "artifacts": [{"seed": 3, "base64": "", "finishReason": "ERROR"}]}
    assert sdxl.check_response(failed) == failed


def test_response_that_follows_the_contract_passes() -> None:
    assert sdxl.check_response(json.dumps(GOOD_RESPONSE)) == GOOD_RESPONSE
    with_extra = {**GOOD_RESPONSE, "added_by_service_later": 1}
    assert sdxl.check_response(with_extra)["added_by_service_later"] == 1


@pytest.mark.parametrize(
    ("response", "violation"),
    [
        ({"result": "success"}, "#: required key [artifacts] not found"),
        (
            {"result": "success", "artifacts": []},
            "#/artifacts: expected minimum item count: 1, found: 0",
        ),
        (
            {"result": "success", "artifacts": [{"seed": 1, "base64": "", "finishReason": "DONE"}]},
            "#/artifacts/0/finishReason: DONE is not a valid enum value",
        ),
        (
            {
                "result": "success",
                "artifacts": [{"seed": 1, "base64": "", "finishedReason": "SUCCESS"}],
            },
            "#/artifacts/0: required key [finishReason] not found",
        ),
        ("<html>", "#: is not a JSON object (Expecting value: line 1 column 1 (char 0))"),
        (
            {"result": "success", "artifacts": [{"seed": 1, "base64": "n0t b64", "finishReason": "SUCCESS"}]},
            "#/artifacts/0/base64: is not valid base64",
        ),
        (
            {"result": "success", "artifacts": [{"seed": 1, "base64": "aGVsbG8=", "finishReason": "SUCCESS"}]},
            "#/artifacts/0/base64: is not an image",
        ),
        (
            {"result": "success", "artifacts": [{"seed": 1, "base64": b64_image((8, 8), "JPEG"), "finishReason": "SUCCESS"}]},
            "#/artifacts/0/base64: is a JPEG image; expected PNG",
        ),
    ],
)
def test_response_drift_is_named(response: Any, violation: str) -> None:
    raw = response if isinstance(response, str) else json.dumps(response)
    with pytest.raises(sdxl.InvalidResponseBody) as caught:
        sdxl.check_response(raw)
    assert caught.value.message == f"response body breaks the Stable Diffusion XL 1.0 contract: {violation}"


# --- the fast verdict agrees with the reference validator ---------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from([*sdxl.request_schema()["properties"], "bogus"])
near_valid = st.dictionaries(keys, json_values, max_size=6).map(lambda extra: {**PROMPT, **extra})


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, near_valid))
def test_fast_verdict_matches_the_reference_validator(value: Any) -> None:
    reference_valid = request_validator().is_valid(value)
    assert (sdxl.request_violations(value) == []) == reference_valid


def test_integral_floats_of_integer_fields_are_refused_and_number_fields_take_them() -> None:
    # json.dumps writes a float 5.0 as "5.0", which org.json types BigDecimal.
    assert refusal(body(seed=5.0)) == FRAME.format(
        "#/seed: expected type: Integer, found: BigDecimal")
    assert sdxl.check_request(body(cfg_scale=7.0)).body["cfg_scale"] == 7.0


def test_deeply_nested_body_is_refused_not_crashed() -> None:
    raw = '{"text_prompts": [{"text": "a"}], "extras": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert refusal(raw) == "Malformed input request, please reformat your input and try again."
