"""Input images and the pictures drawn from them cost about their own size (issue 18): SD3.5
Large's and Ultra's image to image answer about a megapixel whatever the input, no output
passes a format's limits, what would be costly to decode is refused before decoding (a JPEG
of too many scans, a PNG of too many chunks, too many pixels decoded whole) in the mock and
in the client alike, and a large picture is drawn without copies of itself."""

from __future__ import annotations

import base64
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result
from PIL import Image

from bedrock_contract import AspectRatioRule, check_request, contract_for, images as input_images
from bedrock_contract.images import MAX_JPEG_SCANS, MAX_PNG_CHUNKS, without_png_text
from bedrock_contract.sizes import MAX_OUTPUT_SIDE, sent_size
from bedrock_contract.validation import InvalidRequestBody
from bench.attacks.inputs import flat_image, png_of_chunks, scan_bomb
from mock_bedrock.engines import ServicesEngine, generation
from mock_bedrock.engines.stability import StabilityEngine
from mock_bedrock.placeholder import read_parameters, text
from mock_bedrock.placeholder.png import encode_png
from mock_bedrock.placeholder.scene import Bands
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.fit import FitError, fit_image

SD35 = "stability.sd3-5-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
CREATIVE = "us.stability.stable-creative-upscale-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
REMOVE_BACKGROUND = "us.stability.stable-image-remove-background-v1:0"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def answer(client: Any, model_id: str, body: dict[str, Any]) -> tuple[Image.Image, bytes]:
    """The picture a call answers, and its file's bytes."""
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    [image] = json.loads(response["body"].read())["images"]
    data = base64.b64decode(image)
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture, data


def refusal(client: Any, model_id: str, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as refused:
        client.invoke_model(modelId=model_id, body=json.dumps(body))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    message: str = error["Message"]
    return message


def sdxl(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- image to image: about a megapixel, whatever the input ------------------------------


@pytest.mark.parametrize("model_id", [SD35, ULTRA])
def test_the_image_scale_gives_each_aspect_ratio_its_own_size(model_id: str) -> None:
    # The rounding chosen (a million pixels, sides multiples of 64) is the one that gives
    # every size of the model's aspect-ratio table from the ratio's shape.
    rule = contract_for(model_id).size
    assert isinstance(rule, AspectRatioRule) and rule.scale is not None
    for ratio, size in rule.pixels.items():
        width, height = (int(side) for side in ratio.split(":"))
        assert rule.scale.of((width * 1000, height * 1000)) == size, ratio


@pytest.mark.parametrize("model_id", [SD35, ULTRA])
def test_image_to_image_answers_about_a_megapixel_in_the_inputs_shape(
        client: Any, model_id: str) -> None:
    body = {"prompt": "in oils", "image": b64(flat_image((2048, 1536))), "strength": 0.5}
    picture, data = answer(client, model_id, body)
    assert picture.size == (1152, 896)  # 4:3, not the input's 2048x1536
    assert read_parameters(data)["image"]["size"] == [2048, 1536]  # as sent


def test_a_long_strip_asking_for_webp_is_answered_within_webps_sides(client: Any) -> None:
    body = {"prompt": "x", "image": b64(flat_image((16400, 64))), "strength": 0.5,
            "output_format": "webp"}
    picture, _ = answer(client, SD35, body)
    assert (picture.format, picture.size) == ("WEBP", (1536, 640))  # the sides' bounds


def test_no_output_passes_webps_side_however_an_operation_grows_it(client: Any) -> None:
    # Creative upscale takes a 16384x64 strip (no aspect limit) to about 4 megapixels:
    # 32,000 px wide, which WebP cannot hold; the picture keeps its shape within 16,383.
    body = {"prompt": "x", "image": b64(flat_image((16384, 64))), "output_format": "webp"}
    picture, _ = answer(client, CREATIVE, body)
    assert picture.format == "WEBP"
    assert picture.size == (MAX_OUTPUT_SIDE, 63)


# --- what is decoded, and at what size -----------------------------------------------------


def test_a_large_baseline_jpeg_is_decoded_at_a_reduced_scale(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(input_images, "MAX_DECODED_PIXELS", 4_000_000)
    contract = contract_for(SD35)
    body = {"prompt": "x", "strength": 0.5,
            "image": b64(flat_image((3000, 3000), "JPEG", quality=90))}
    held = check_request(contract, body).images["image"]
    # 9 megapixels decoded at half scale (2.25), held at the output's size.
    assert held.size == (1024, 1024)
    assert sent_size(held) == (3000, 3000)
    assert contract.output_size(body, {"image": held}) == (1024, 1024)


@pytest.mark.parametrize(("fmt", "options"), [("PNG", {}), ("WEBP", {}),
                                              ("JPEG", {"progressive": True})])
def test_what_cannot_be_decoded_at_a_reduced_scale_is_bounded(
        monkeypatch: pytest.MonkeyPatch, fmt: str, options: dict[str, Any]) -> None:
    monkeypatch.setattr(input_images, "MAX_DECODED_PIXELS", 1_000_000)
    body = {"prompt": "x", "strength": 0.5, "image": b64(flat_image((1500, 1000), fmt,
                                                                    **options))}
    with pytest.raises(InvalidRequestBody) as refused:
        check_request(contract_for(SD35), body)
    assert "#/image: image has 1500000 pixels; the mock decodes at most 1000000" in str(
        refused.value)


def test_the_client_refuses_what_the_mock_would_not_decode_and_fit_mends_it(
        in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(input_images, "MAX_DECODED_PIXELS", 500_000)
    (in_tmp / "big.png").write_bytes(flat_image((1000, 600)))
    refused = sdxl("--model-id", SD35, "generate", "x", "--image", "big.png",
                   "--strength", "0.5")
    assert refused.exit_code == ExitCode.REFUSED_LOCALLY
    assert "#/image: image has 600000 pixels; the mock decodes at most 500000" in \
        refused.stderr
    fitted = sdxl("--model-id", SD35, "generate", "x", "--image", "big.png", "--strength",
                  "0.5", "--fit", "-o", "out.png")
    assert fitted.exit_code == 0, fitted.output
    assert "to fit 500,000 pixels" in fitted.stderr


# --- a JPEG of too many scans ----------------------------------------------------------------


def test_a_jpeg_of_too_many_scans_is_refused_before_it_is_decoded(client: Any) -> None:
    bomb = scan_bomb(64, MAX_JPEG_SCANS + 50)
    message = refusal(client, SD35, {"prompt": "x", "image": b64(bomb), "strength": 0.5})
    assert f"#/image: is a JPEG of {MAX_JPEG_SCANS + 50} scans, more than the " \
           f"{MAX_JPEG_SCANS} the mock decodes" in message
    # A progressive JPEG as encoders write it (10 scans) is taken.
    progressive = flat_image((64, 64), "JPEG", progressive=True)
    assert answer(client, SD35, {"prompt": "x", "image": b64(progressive), "strength": 0.5})[1]


def test_sdxl_generate_refuses_a_scan_bomb_and_fit_will_not_decode_it(in_tmp: Path) -> None:
    (in_tmp / "bomb.jpg").write_bytes(scan_bomb(64, MAX_JPEG_SCANS + 1))
    result = sdxl("--model-id", SD35, "generate", "x", "--image", "bomb.jpg", "--strength",
                  "0.5")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert f"#/image: is a JPEG of {MAX_JPEG_SCANS + 1} scans" in result.stderr
    # Too many pixels for an Image Service as well: fitting it would decode it.
    (in_tmp / "big.jpg").write_bytes(scan_bomb(3200, MAX_JPEG_SCANS + 1))
    with pytest.raises(FitError, match="scans"):
        fit_image(contract_for(REMOVE_BACKGROUND), "image", in_tmp / "big.jpg")


# --- a PNG of too many chunks ------------------------------------------------------------------


def test_a_png_of_too_many_chunks_is_refused(client: Any) -> None:
    png = png_of_chunks(MAX_PNG_CHUNKS)
    message = refusal(client, REMOVE_BACKGROUND, {"image": b64(png)})
    assert f"#/image: is a PNG of more than {MAX_PNG_CHUNKS:,} chunks" in message


def test_stripping_text_chunks_makes_no_object_per_chunk() -> None:
    png = png_of_chunks(MAX_PNG_CHUNKS - 10)  # one tEXt among them, stripped
    tracemalloc.start()
    try:
        stripped = without_png_text(png)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert b"tEXt" not in stripped and len(stripped) < len(png)
    assert peak < 2 * len(png)  # the copy; not a memoryview a chunk


# --- large pictures ----------------------------------------------------------------------------


def test_a_large_picture_is_encoded_without_a_copy_of_its_bytes() -> None:
    bands = Bands(3000, (bytes(range(250)) * 36, bytes(9000)), (800, 800))
    picture = bands.image()
    picture.paste(Image.effect_noise((200, 100), 30).convert("RGB"), (100, 700))
    encode_png(picture, {})  # the deflated runs of repeated rows, made once for this width
    tracemalloc.start()
    try:
        png = encode_png(picture, {"k": "v"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Image.open(io.BytesIO(png)).tobytes() == picture.tobytes()
    # Blocks of rows and a megabyte of distinct ones: not the picture's bytes (6 B/px once
    # as a whole and again as rows).
    assert peak < 3000 * 1600  # a byte a pixel; before, 28 MB


class _Watching(StabilityEngine):
    """Notes, while it draws, whether the lock for large pictures is held."""

    held: list[bool]

    def draw(self, *args: Any, **kwargs: Any) -> bytes:
        self.held.append(generation._drawing_large.locked())
        return super().draw(*args, **kwargs)


def test_large_pictures_are_drawn_one_at_a_time_and_others_never_wait() -> None:
    contract = contract_for(SD35)
    engine = _Watching(generation.ResponseCache())
    engine.held = []
    small = check_request(contract, {"prompt": "small"})
    engine.generate(contract, SD35, small)
    large = check_request(contract, {"prompt": "large", "aspect_ratio": "1:1"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generation, "LARGE_PICTURE_PIXELS", 1024 * 1024 - 1)
        engine.generate(contract, SD35, large)
    assert engine.held == [False, True]


def test_a_large_pictures_caption_is_drawn_each_time_not_kept() -> None:
    text.clear_text_cache()
    contract = contract_for(OUTPAINT)
    body = {"prompt": "a harbour wall", "image": b64(flat_image((1000, 400))), "left": 1000,
            "right": 1000, "up": 800, "down": 800, "output_format": "jpeg"}
    request = check_request(contract, body)
    assert contract.output_size(body, request.images) == (3000, 2000)  # over the kept size
    ServicesEngine(generation.ResponseCache()).generate(contract, OUTPAINT, request)
    assert text.caption_panel.cache_info().currsize == 0
    assert text.seed_layer.cache_info().currsize == 0


def test_a_caption_drawn_in_place_is_the_kept_captions_pixels(
        monkeypatch: pytest.MonkeyPatch) -> None:
    prompts = (("a lighthouse at dusk, gulls", 1.0), ("fog", -1.0))
    drawn = []
    for kept in (0, 10**9):
        monkeypatch.setattr(text, "CACHED_PICTURE_PIXELS", kept)
        label = text.caption(prompts, "anime", "acme.model", 77, (1200, 900), 1.0)
        canvas = Image.new("RGB", (1200, 900), (90, 40, 200))
        label.draw(canvas, label.top)
        rows = list(label.drawn_over([bytes(3600)] * label.panel.height))
        drawn.append((canvas.tobytes(), rows))
    assert drawn[0] == drawn[1]


# --- the parameters a WebP carries ------------------------------------------------------------

ANY_PROMPT = ("".join(chr(c) for c in range(32)) + "\x7f\x85 \ufffe\uffff lone \ud800 and "
              "\udfff, <&\"'> \U0001f600")


def test_a_webp_placeholder_carries_any_prompt(client: Any) -> None:
    body = {"prompt": ANY_PROMPT, "output_format": "webp"}
    response = client.invoke_model(modelId=SD35, body=json.dumps(body))
    [image] = json.loads(response["body"].read())["images"]
    assert read_parameters(base64.b64decode(image))["prompts"][0]["text"] == ANY_PROMPT


def test_a_saved_webp_reads_back_any_prompt(tmp_path: Path) -> None:
    from sdxl_adapter.result import GenerationResult, read_parameters as read_saved
    webp = flat_image((64, 64), "WEBP")
    result = GenerationResult(images=(webp,), seeds=(7,), finish_reasons=(None,),
                              model_id=SD35, request_id=None,
                              body={"prompt": ANY_PROMPT, "negative_prompt": "\x01\x02"},
                              output_format="webp")
    saved = read_saved(result.save(tmp_path / "out.webp"))
    assert saved["prompt"] == ANY_PROMPT
    assert saved["negative_prompt"] == "\x01\x02"
    assert saved["seed"] == "7"
