"""The typed request: what body each shape becomes, what is left to the service, images in
every accepted form, and refusal before anything is sent."""

from __future__ import annotations

import base64
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

import bedrock_contract
from sdxl_adapter.errors import InvalidRequest, SDXLError
from sdxl_adapter.models import sdxl_contract
from sdxl_adapter.request import NEGATIVE_PROMPT_WEIGHT, SDXLRequest, TextPrompt
from tests.support.images import image_bytes

FRAME = "Malformed input request: {}, please reformat your input and try again."

SDXL = sdxl_contract()
assert isinstance(SDXL.size, bedrock_contract.PairsRule)
SDXL_SIZES = SDXL.size.allowed


def decoded(body: dict[str, Any], name: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(body[name])))


# --- bodies of the three shapes -------------------------------------------------------------


def test_prompt_alone_leaves_every_other_field_to_the_service() -> None:
    assert SDXLRequest(prompt="a lighthouse").to_body() == {
        "text_prompts": [{"text": "a lighthouse"}]
    }


def test_text_to_image_body_carries_exactly_what_was_set() -> None:
    width, height = SDXL_SIZES[-1]
    request = SDXLRequest(
        prompt="a lighthouse",
        negative_prompt="fog",
        size=(width, height),
        cfg_scale=9.5,
        sampler="K_EULER",
        seed=42,
        steps=40,
        style_preset="analog-film",
        extras={"engine": "x"},
    )
    assert request.to_body() == {
        "text_prompts": [{"text": "a lighthouse"}, {"text": "fog", "weight": -1}],
        "width": width,
        "height": height,
        "cfg_scale": 9.5,
        "sampler": "K_EULER",
        "seed": 42,
        "steps": 40,
        "style_preset": "analog-film",
        "extras": {"engine": "x"},
    }
    assert request.mode == "text-to-image"
    assert request.validate() is request


def test_image_to_image_body() -> None:
    png = image_bytes((1024, 1024))
    request = SDXLRequest(
        prompt="in watercolour",
        init_image=png,
        init_image_mode="STEP_SCHEDULE",
        step_schedule_start=0.4,
        step_schedule_end=0.9,
    )
    body = request.validate().to_body()
    assert body == {
        "text_prompts": [{"text": "in watercolour"}],
        "init_image": base64.b64encode(png).decode(),
        "init_image_mode": "STEP_SCHEDULE",
        "step_schedule_start": 0.4,
        "step_schedule_end": 0.9,
    }
    assert request.mode == "image-to-image"


def test_masking_body() -> None:
    init, mask = image_bytes((896, 1152)), image_bytes((896, 1152), mode="L", color=255)
    request = SDXLRequest(
        prompt="a red door", init_image=init, mask_source="MASK_IMAGE_WHITE", mask_image=mask
    )
    body = request.validate().to_body()
    assert body == {
        "text_prompts": [{"text": "a red door"}],
        "init_image": base64.b64encode(init).decode(),
        "mask_source": "MASK_IMAGE_WHITE",
        "mask_image": base64.b64encode(mask).decode(),
    }
    assert request.mode == "masking"


# --- prompts --------------------------------------------------------------------------------


def test_negative_prompt_text_gets_weight_minus_one() -> None:
    body = SDXLRequest(prompt="cat", negative_prompt=["blur", "text"]).to_body()
    assert body["text_prompts"] == [
        {"text": "cat"},
        {"text": "blur", "weight": NEGATIVE_PROMPT_WEIGHT},
        {"text": "text", "weight": NEGATIVE_PROMPT_WEIGHT},
    ]
    assert NEGATIVE_PROMPT_WEIGHT == -1


def test_negative_prompt_keeps_a_given_weight() -> None:
    body = SDXLRequest(prompt="cat", negative_prompt=TextPrompt("blur", -0.3)).to_body()
    assert body["text_prompts"][1] == {"text": "blur", "weight": -0.3}


def test_several_weighted_prompts_keep_order_and_weights() -> None:
    prompts = [TextPrompt("castle", 1.2), "sky", TextPrompt("people", -0.5)]
    body = SDXLRequest(prompt=prompts).to_body()
    assert body["text_prompts"] == [
        {"text": "castle", "weight": 1.2},
        {"text": "sky"},
        {"text": "people", "weight": -0.5},
    ]


def test_a_prompt_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="prompt must be str or TextPrompt"):
        SDXLRequest(prompt=[3])  # type: ignore[list-item]


# --- image inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["bytes", "str path", "Path", "PIL image"])
def test_image_inputs_in_every_form_become_base64_of_the_image(tmp_path: Path, form: str) -> None:
    original = Image.new("RGB", (1152, 896), (10, 200, 30))
    png = io.BytesIO()
    original.save(png, format="PNG")
    path = tmp_path / "init.png"
    path.write_bytes(png.getvalue())
    given_image = {
        "bytes": png.getvalue(),
        "str path": str(path),
        "Path": path,
        "PIL image": original,
    }[form]
    body = SDXLRequest(prompt="x", init_image=given_image).validate().to_body()
    sent = decoded(body, "init_image")
    assert sent.size == (1152, 896)
    assert sent.convert("RGB").tobytes() == original.tobytes()
    if form != "PIL image":  # files and bytes are sent as given, not re-encoded
        assert base64.b64decode(body["init_image"]) == png.getvalue()


def test_jpeg_bytes_are_sent_as_jpeg() -> None:
    jpeg = image_bytes((1024, 1024), fmt="JPEG")
    body = SDXLRequest(prompt="x", init_image=jpeg).validate().to_body()
    assert decoded(body, "init_image").format == "JPEG"


def test_an_image_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"bytes, a path or a PIL\.Image\.Image"):
        SDXLRequest(prompt="x", init_image=12)  # type: ignore[arg-type]


# --- refusal with Bedrock's wording ---------------------------------------------------------


def test_invalid_request_is_refused_with_bedrock_wording_and_every_violation() -> None:
    steps = SDXL.field("steps")
    request = SDXLRequest(prompt="x", steps=steps["maximum"] + 1, size=(1000, 1000))
    with pytest.raises(InvalidRequest) as caught:
        request.validate()
    err = caught.value
    assert isinstance(err, SDXLError) and isinstance(err, ValueError)
    # steps is the object's one violation, a single message; the size pairs are an anyOf
    # (a combined schema: "#/width: " and "#/height: " once per pair), listed after it.
    assert [v.pointer for v in err.violations] == ["#/steps"] + ["#/width", "#/height"] * 9
    assert err.message == FRAME.format("".join(str(v) for v in err.violations))
    assert str(err) == err.message
    assert f"{steps['maximum'] + 1} is not less or equal to {steps['maximum']}" in err.message
    assert isinstance(err.__cause__, bedrock_contract.InvalidRequestBody)


def test_size_beside_an_init_image_is_taken_and_the_init_image_sets_the_size() -> None:
    # AWS's Generative AI Use Cases app sends height and width with every SDXL body, init
    # image included (packages/cdk/lambda/utils/models.ts, createBodyImageStableDiffusion).
    request = SDXLRequest(prompt="x", init_image=image_bytes((1152, 896)), size=(1024, 1024))
    body = request.validate().to_body()
    with Image.open(io.BytesIO(image_bytes((1152, 896)))) as init:
        assert sdxl_contract().output_size(body, {"init_image": init}) == (1152, 896)


def test_an_image_of_a_size_not_allowed_is_refused() -> None:
    request = SDXLRequest(prompt="x", init_image=image_bytes((512, 512)))
    with pytest.raises(InvalidRequest, match=r"#/init_image: image size 512x512"):
        request.validate()


# --- ready-made bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("as_", [dict, json.dumps, lambda b: json.dumps(b).encode()])
def test_from_body_accepts_a_dict_or_json(as_: Any) -> None:
    body = {
        "text_prompts": [{"text": "fog", "weight": -1}, {"text": "a pier"}],
        "width": 1344,
        "height": 768,
        "seed": 9,
    }
    request = SDXLRequest.from_body(as_(body))
    assert request.size == (1344, 768)
    assert request.seed == 9
    assert request.to_body() == body


def test_from_body_with_images_round_trips() -> None:
    body = SDXLRequest(
        prompt="x",
        init_image=image_bytes((1024, 1024), mode="RGBA", color=(0, 0, 0, 0)),
        mask_source="INIT_IMAGE_ALPHA",
    ).to_body()
    assert SDXLRequest.from_body(body).to_body() == body


def test_from_body_refuses_an_invalid_body_with_bedrock_wording() -> None:
    with pytest.raises(InvalidRequest) as caught:
        SDXLRequest.from_body(b'{"prompt": "x"}')
    assert caught.value.message == FRAME.format(
        "#: required key [text_prompts] not found#: extraneous key [prompt] is not permitted"
    )


def test_from_body_refuses_text_that_is_not_json() -> None:
    with pytest.raises(InvalidRequest, match=r"^Malformed input request, please reformat"):
        SDXLRequest.from_body("{text_prompts")


# --- property: any request built from the schema's own rules passes the contract -------------


def schema_value(name: str) -> st.SearchStrategy[Any]:
    """Values a field may take, read from its schema (enum, or type and range)."""
    prop = SDXL.field(name)
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    if prop["type"] == "integer":
        return st.integers(prop.get("minimum"), prop.get("maximum"))
    if prop["type"] == "number":
        return st.floats(prop.get("minimum"), prop.get("maximum"), allow_nan=False)
    assert prop["type"] == "object", name
    return st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3)


def optional(name: str) -> st.SearchStrategy[Any]:
    return st.none() | schema_value(name)


COMMON = ("cfg_scale", "clip_guidance_preset", "sampler", "samples", "seed", "steps",
          "style_preset", "extras")
IMAGE_OPTIONS = ("init_image_mode", "image_strength", "step_schedule_start", "step_schedule_end")


@cache
def transparent_png(size: tuple[int, int]) -> bytes:
    # With transparency, the init image suits every mask source, INIT_IMAGE_ALPHA included;
    # a palette image decodes ten times faster than RGBA, which keeps the property quick.
    out = io.BytesIO()
    Image.new("P", size, 0).save(out, format="PNG", transparency=0)
    return out.getvalue()


TEXT = SDXL.field("text_prompts")["items"]["properties"]["text"]
prompt_items = st.builds(
    TextPrompt,
    st.text(max_size=TEXT["maxLength"]),
    st.none() | st.floats(allow_nan=False, allow_infinity=False),
)
prompts = st.lists(st.text(max_size=40) | prompt_items, min_size=1, max_size=3)
negatives = st.none() | st.text(max_size=40) | st.lists(st.text(max_size=40), max_size=2)
sizes = st.sampled_from(SDXL_SIZES)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {name: draw(optional(name)) for name in COMMON}
    fields["prompt"] = draw(prompts)
    fields["negative_prompt"] = draw(negatives)
    shape = draw(st.sampled_from(["text-to-image", "image-to-image", "masking"]))
    if shape == "text-to-image":
        fields["size"] = draw(st.none() | sizes)
    else:
        size = draw(sizes)
        fields["init_image"] = transparent_png(size)
        fields.update({name: draw(optional(name)) for name in IMAGE_OPTIONS})
    if shape == "masking":
        fields["mask_source"] = draw(schema_value("mask_source"))
        fields["mask_image"] = transparent_png(size)
    return fields


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_requests_built_within_the_schema_pass_the_contract(fields: dict[str, Any]) -> None:
    request = SDXLRequest(**fields)
    body = request.to_body()
    bedrock_contract.check_request(SDXL, json.dumps(body))  # raises on any violation
    # Only what was set reaches the body (prompts and size under their wire names).
    set_fields = {k for k, v in fields.items() if v is not None and k not in ("prompt", "size")}
    set_fields.discard("negative_prompt")
    expected = set_fields | {"text_prompts"} | ({"width", "height"} if fields.get("size") else set())
    assert set(body) == expected
    assert SDXLRequest.from_body(body).to_body() == body
