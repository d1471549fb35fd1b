"""Saving a result: the PNG as the service sent it plus the generation parameters in text
chunks, the service's own chunks kept, and never a partial file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sdxl_adapter import pngtext
from sdxl_adapter.pngtext import png_with_text, read_png_text
from sdxl_adapter.request import SDXLRequest, TextPrompt
from sdxl_adapter.result import GenerationResult, read_parameters
from tests.support.images import image_bytes

MODEL = "stability.stable-diffusion-xl-v1"


def service_png(size: tuple[int, int] = (1152, 896)) -> bytes:
    """A PNG as the mock sends it: with text chunks of its own, one of them iTXt."""
    info = PngInfo()
    info.add_text("Software", "mock-bedrock")
    info.add_itxt("Description", "placeholder ✓")
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 10)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def result_for(request: SDXLRequest, png: bytes | None = None, *,
               finish_reason: str = "SUCCESS") -> GenerationResult:
    return GenerationResult(
        images=(service_png() if png is None else png,),
        seeds=(4242,),
        finish_reasons=(finish_reason,),
        model_id=MODEL,
        request_id="req-1",
        body=request.to_body(),
        request=request,
    )


def test_save_records_the_parameters_that_were_set(tmp_path: Path) -> None:
    request = SDXLRequest(
        prompt="a lighthouse", negative_prompt="fog", size=(1152, 896), steps=40,
        cfg_scale=8.5, style_preset="cinematic", sampler="K_EULER",
    )
    path = result_for(request).save(tmp_path / "out.png")
    assert read_parameters(path) == {
        "prompt": "a lighthouse",
        "negative_prompt": "fog",
        "seed": "4242",
        "size": "1152x896",
        "steps": "40",
        "cfg_scale": "8.5",
        "style_preset": "cinematic",
        "sampler": "K_EULER",
        "model_id": MODEL,
    }


def test_save_leaves_out_what_the_request_left_to_the_service(tmp_path: Path) -> None:
    path = result_for(SDXLRequest(prompt="a lighthouse")).save(tmp_path / "out.png")
    # Seed and size come from the result: the service chose them.
    assert read_parameters(path) == {
        "prompt": "a lighthouse", "seed": "4242", "size": "1152x896", "model_id": MODEL,
    }


def test_several_and_non_latin_prompts_survive(tmp_path: Path) -> None:
    request = SDXLRequest(
        prompt=[TextPrompt("灯台", 1.5), "夕暮れ"], negative_prompt=["brume", "😶‍🌫️"]
    )
    params = read_parameters(result_for(request).save(tmp_path / "out.png"))
    assert params["prompt"] == "灯台\n夕暮れ"
    assert params["negative_prompt"] == "brume\n😶‍🌫️"


def test_save_keeps_the_services_chunks_and_every_original_byte(tmp_path: Path) -> None:
    png = service_png()
    path = result_for(SDXLRequest(prompt="x"), png).save(tmp_path / "out.png")
    saved = path.read_bytes()
    texts = read_png_text(path)
    assert texts["Software"] == "mock-bedrock"
    assert texts["Description"] == "placeholder ✓"
    assert texts["sdxl:prompt"] == "x"
    # Not re-encoded: the original, up to its IEND chunk, is the start of the saved file.
    assert saved.startswith(png[:-12])
    with Image.open(path) as image:
        assert image.tobytes() == Image.open(io.BytesIO(png)).tobytes()


def test_save_replaces_an_existing_file_and_creates_it_as_open_would(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")
    previous = os.umask(0o027)
    try:
        result_for(SDXLRequest(prompt="x")).save(path)
    finally:
        os.umask(previous)
    assert read_parameters(path)["prompt"] == "x"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: BaseException
) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"the previous image")

    def fail(fd: int) -> None:
        raise interruption

    # fsync runs after the bytes are written and before the rename: the worst moment.
    monkeypatch.setattr(pngtext.os, "fsync", fail)
    with pytest.raises(type(interruption)):
        result_for(SDXLRequest(prompt="x")).save(path)
    assert path.read_bytes() == b"the previous image"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_a_filtered_result_can_still_be_saved(tmp_path: Path) -> None:
    result = result_for(SDXLRequest(prompt="x"), finish_reason="CONTENT_FILTERED")
    assert read_parameters(result.save(tmp_path / "blurred.png"))["seed"] == "4242"


def test_image_is_decoded_lazily_and_once() -> None:
    result = result_for(SDXLRequest(prompt="x"), image_bytes((896, 1152)))
    assert "image" not in vars(result)
    assert result.image.size == (896, 1152) == result.size
    assert result.image is result.image


def test_text_chunks_are_added_to_a_png_with_bytes_after_iend() -> None:
    png = service_png() + b"trailing junk"
    texts = read_png_text(png_with_text(png, {"sdxl:seed": "1"}))
    assert texts == {"Software": "mock-bedrock", "Description": "placeholder ✓", "sdxl:seed": "1"}


def test_reading_chunks_of_a_jpeg_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PNG image: JPEG"):
        read_png_text(image_bytes((64, 64), fmt="JPEG"))
