"""The library for every model: ModelRequest built from the schema, results in each output
format saved with their parameters and without re-encoding, Stability finish reasons as
typed errors, the end-of-life refusal as ModelEndOfLife, and migrate()."""

from __future__ import annotations

import base64
import datetime as dt
import io
import struct
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest
from PIL import Image

from bedrock_contract import check_request
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter import (
    BedrockImageClient,
    ContentFiltered,
    GenerationFailed,
    InvalidRequest,
    ModelEndOfLife,
    ModelRequest,
    SDXLClient,
    SDXLRequest,
    errors,
    migrate,
    read_parameters,
)
from sdxl_adapter.errors import ClientConfigError
from sdxl_adapter.models import contract_of
from tests.support.images import image_bytes

CORE = "stability.stable-image-core-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
SDXL_ID = "stability.stable-diffusion-xl-v1"


@pytest.fixture
def mock() -> Iterator[BedrockImageClient]:
    # Per test: while the in-process mock is on, it answers every client in the process.
    with BedrockImageClient("mock") as made:
        yield made


def test_model_request_body_follows_the_schema() -> None:
    request = ModelRequest(SD35, seed=4, prompt="ink", image=image_bytes((64, 64)),
                           strength=0.5, negative_prompt=None)
    body = request.validate().to_body()
    assert list(body) == ["prompt", "strength", "seed", "image"]  # the schema's order
    assert base64.b64decode(body["image"]) == image_bytes((64, 64))
    assert request.output_format == "png"
    assert ModelRequest.from_body(SD35, request.to_json()) == request


def test_model_request_takes_paths_and_pillow_images(tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(image_bytes((80, 64)))
    by_path = ModelRequest(SD35, prompt="x", image=tmp_path / "in.png", strength=0.2)
    by_image = ModelRequest(SD35, prompt="x", image=Image.new("RGB", (80, 64)), strength=0.2)
    for request in (by_path, by_image):
        with Image.open(io.BytesIO(base64.b64decode(request.to_body()["image"]))) as image:
            assert image.size == (80, 64)


def test_model_request_is_checked_by_its_models_contract() -> None:
    # A field outside the model's list: the model's own check, in its words (schemas/service.json).
    with pytest.raises(InvalidRequest, match=r"Invalid field 'steps' in request\. Available "
                                             r"fields for core are: prompt, negative_prompt"):
        ModelRequest(CORE, prompt="x", steps=30).validate()
    with pytest.raises(InvalidRequest, match=r"#/aspect_ratio: 7:3 is not a valid enum value"):
        ModelRequest(CORE, prompt="x", aspect_ratio="7:3").validate()


def test_prompt_keywords_become_sdxls_weighted_prompts() -> None:
    body = ModelRequest(SDXL_ID, prompt="a fox", negative_prompt="blur").to_body()
    assert body == {"text_prompts": [{"text": "a fox"}, {"text": "blur", "weight": -1}]}


@pytest.mark.parametrize(("fmt", "pillow"), [("jpeg", "JPEG"), ("png", "PNG")])
def test_core_result_in_the_requested_format(mock: BedrockImageClient, fmt: str, pillow: str,
                                             tmp_path: Path) -> None:
    result = mock.generate(ModelRequest(CORE, prompt="a lighthouse", aspect_ratio="21:9",
                                        output_format=fmt, seed=9))
    assert (result.output_format, result.seeds, result.finish_reasons) == (fmt, (9,), (None,))
    assert result.image.format == pillow and result.size == (1536, 640)
    saved = result.save(tmp_path / f"x{result.extension}")
    assert read_parameters(saved)["prompt"] == "a lighthouse"
    assert read_parameters(saved)["seed"] == "9"


def test_png_property_is_for_png_results_only(mock: BedrockImageClient) -> None:
    result = mock.generate(ModelRequest(CORE, prompt="x", output_format="jpeg"))
    assert result.data.startswith(b"\xff\xd8")
    with pytest.raises(ValueError, match=r"this result is jpeg, not png: read \.data"):
        _ = result.png


def test_saving_a_jpeg_only_adds_a_comment_segment(mock: BedrockImageClient,
                                                    tmp_path: Path) -> None:
    # JSON escapes each emoji to 12 characters: too long for one 64 KiB segment.
    prompt = "😶" * 9000
    result = mock.generate(ModelRequest(CORE, prompt=prompt, output_format="jpeg"))
    saved = result.save(tmp_path / "x.jpg").read_bytes()
    # Our COM segments sit right after SOI; drop them and the service's file is left.
    at = 2
    while saved[at:at + 2] == b"\xff\xfe":
        at += 2 + struct.unpack(">H", saved[at + 2:at + 4])[0]
    assert at > 2 + 65535  # the long prompts needed more than one segment
    assert saved[:2] + saved[at:] == result.data
    assert read_parameters(saved)["prompt"] == prompt


def riff_chunks(data: bytes) -> dict[bytes, bytes]:
    found, at = {}, 12
    while at + 8 <= len(data):
        tag, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        found[tag] = data[at + 8:at + 8 + size]
        at += 8 + size + (size & 1)
    return found


def test_saving_a_webp_keeps_its_image_chunks_and_the_mocks_xmp(mock: BedrockImageClient,
                                                                 tmp_path: Path) -> None:
    from mock_bedrock.placeholder import read_parameters as read_placeholder

    result = mock.generate(ModelRequest(SD35, prompt="x", output_format="webp", seed=3))
    saved = result.save(tmp_path / "x.webp").read_bytes()
    before, after = riff_chunks(result.data), riff_chunks(saved)
    for tag in before.keys() - {b"XMP ", b"VP8X"}:
        assert after[tag] == before[tag]  # image data copied byte for byte
    assert read_parameters(saved)["seed"] == "3"
    assert read_placeholder(saved)["seed"] == 3
    with Image.open(io.BytesIO(saved)) as image:
        assert image.tobytes() == result.image.tobytes()


def test_a_simple_webp_becomes_extended_to_carry_xmp(tmp_path: Path) -> None:
    from sdxl_adapter.embedded import read_embedded, with_parameters

    for mode in ("RGB", "RGBA"):
        plain = image_bytes((70, 50), fmt="WEBP", mode=mode, color=(1, 2, 3, 4)[:len(mode)])
        carried = with_parameters(plain, {"prompt": "a\nb <&>"})
        assert read_embedded(carried) == {"prompt": "a\nb <&>"}
        with Image.open(io.BytesIO(carried)) as image, Image.open(io.BytesIO(plain)) as old:
            assert (image.size, image.mode) == (old.size, old.mode)
            assert image.tobytes() == old.tobytes()


@pytest.mark.parametrize("with_image", [True, False])
def test_stability_filter_reasons_are_content_filtered(mock: BedrockImageClient,
                                                       with_image: bool) -> None:
    mock.mock.faults.add(FaultRule(finish_reason="Filter reason: output image",
                                   with_image=with_image))
    with pytest.raises(ContentFiltered, match=r"Filter reason: output image") as caught:
        mock.generate(ModelRequest(CORE, prompt="x"))
    assert caught.value.result.has_image is with_image


def test_inference_error_is_a_failed_generation(mock: BedrockImageClient) -> None:
    mock.mock.faults.add(FaultRule(finish_reason="Inference error", with_image=False))
    with pytest.raises(GenerationFailed, match="Inference error"):
        mock.generate(ModelRequest(SD35, prompt="x"))


def test_an_sdxl_request_is_refused_for_another_model() -> None:
    with SDXLClient("mock", model_id=CORE) as other, pytest.raises(
        ClientConfigError, match="an SDXLRequest is for SDXL"
    ):
        other.generate(SDXLRequest(prompt="x"))
    assert other.mock.journal.entries() == []


def test_invoke_body_checks_by_the_clients_model() -> None:
    with BedrockImageClient("mock", model_id=CORE) as core:
        with pytest.raises(InvalidRequest, match="required key \\[prompt\\] not found"):
            core.invoke_body({"text_prompts": [{"text": "x"}]})
        assert core.invoke_body({"prompt": "x"}).size == (1024, 1024)


def test_end_of_life_refusal_is_model_end_of_life() -> None:
    with (MockServer(as_of=dt.date.today()) as server, SDXLClient(server.endpoint_url) as old,
          pytest.raises(ModelEndOfLife) as caught):
        old.generate(SDXLRequest(prompt="x"))
    err = caught.value
    assert isinstance(err, errors.ResourceNotFoundException)
    assert (err.model_id, err.replacement) == (SDXL_ID, CORE)
    assert err.eol == dt.date(2025, 5, 20)
    assert "end of its life" in err.message


def test_error_classes_declared_for_type_checkers_are_botocores() -> None:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    source = Path(errors.__file__).read_text()
    declared = {line.split("(")[0].split()[-1] for line in source.splitlines()
                if line.startswith("    class ") and "(BedrockError): ..." in line}
    assert declared == {shape.name for shape in model.error_shapes}


def test_migrate_library_lists_dropped_fields_and_the_seed_clamp() -> None:
    body = {"text_prompts": [{"text": "a fox"}], "seed": 4294967295, "samples": 1,
            "extras": {"x": 1}, "init_image": base64.b64encode(image_bytes((1024, 1024))).decode(),
            "init_image_mode": "STEP_SCHEDULE", "step_schedule_start": 0.8}
    moved = migrate(body, SD35)
    check_request(contract_of(SD35), moved.body)
    assert moved.body["seed"] == 4294967294
    assert moved.body["strength"] == 0.8  # step_schedule_start 0.8 keeps 0.2 of the input
    assert dict(moved.dropped).keys() == {"samples", "extras", "step_schedule_start"}
    assert any(name == "seed" and "clamped to 4294967294" in why for name, why in moved.changed)
    to_core = migrate(body, CORE)
    check_request(contract_of(CORE), to_core.body)
    assert "init_image" in dict(to_core.dropped)
    assert "stability.sd3-5-large-v1:0" in dict(to_core.dropped)["init_image"]


def test_a_canvas_prompt_goes_into_the_parameters_of_the_bodys_task() -> None:
    # Canvas keeps a prompt in each task's own object; a prompt put in textToImageParams
    # beside an inpainting body is refused by the service ("extraneous key").
    image = image_bytes((512, 512))
    inpaint = ModelRequest("amazon.nova-canvas-v1:0", prompt="a red door",
                           negative_prompt="blur", taskType="INPAINTING",
                           inPaintingParams={"image": image, "maskPrompt": "the door"})
    assert set(inpaint.to_body()) == {"taskType", "inPaintingParams"}
    assert inpaint.to_body()["inPaintingParams"]["text"] == "a red door"
    assert inpaint.to_body()["inPaintingParams"]["negativeText"] == "blur"
    inpaint.validate()  # raises if the contract refuses it
    text_only = ModelRequest("amazon.nova-canvas-v1:0", prompt="a lighthouse")
    assert text_only.to_body() == {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a lighthouse"}}


def test_nothing_a_call_returned_is_lost_more_images_and_a_returned_mask(tmp_path: Path) -> None:
    from tests.support.amazon_bodies import CANVAS, TASKS

    try_on = {**TASKS["VIRTUAL_TRY_ON"]}
    try_on["virtualTryOnParams"] = {**try_on["virtualTryOnParams"], "returnMask": True}
    with (MockServer(as_of=dt.date(2026, 9, 29)) as server,
          BedrockImageClient(server.endpoint_url, model_id=CANVAS) as canvas):
        masked = canvas.invoke_body(try_on)
        three = canvas.invoke_body({"taskType": "TEXT_IMAGE",
                                    "textToImageParams": {"text": "a lighthouse"},
                                    "imageGenerationConfig": {"numberOfImages": 3, "seed": 9}})
    with Image.open(io.BytesIO(masked.mask)) as mask:
        assert mask.size == masked.size  # the source image's
    assert [tag for tag, _, _ in masked.other_files()] == ["-mask"]
    assert len(three.images) == 3 and three.seed is None and three.seed_of_record == 9
    others = three.other_files()
    assert [(tag, suffix) for tag, suffix, _ in others] == [("-2", ".png"), ("-3", ".png")]
    assert [data != three.data for _, _, data in others] == [True, True]
    (tmp_path / "second.png").write_bytes(others[0][2])
    assert read_parameters(tmp_path / "second.png")["seed"] == "9"
