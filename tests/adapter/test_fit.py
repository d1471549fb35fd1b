"""``sdxl_adapter.fit_image``: each kind of limit of an image rule, read from the models'
contracts, mended as documented; an image that fits comes back byte for byte."""

from __future__ import annotations

import base64
import dataclasses
import io
import math
from pathlib import Path

import pytest
from PIL import Image

from bedrock_contract import ModelContract, check_request, contract_for
from bedrock_contract.paths import FieldPath
from bedrock_contract.request_fields import ImageRule
from sdxl_adapter import FitError, fit_image
from sdxl_adapter.fit import needs_fit, unfitted
from tests.support.images import image_bytes, png_claiming_size

INPAINT = contract_for("stability.stable-image-inpaint-v1:0")
FAST_UPSCALE = contract_for("stability.stable-fast-upscale-v1:0")
CREATIVE_UPSCALE = contract_for("stability.stable-creative-upscale-v1:0")
IMAGE = "image"


def rule(contract: ModelContract) -> ImageRule:
    return contract.image_rule(IMAGE)


def accepted(contract: ModelContract, data: bytes) -> None:
    """The contract accepts ``data`` as the body's image (the other required fields set)."""
    body = {name: "x" for name in contract.required
            if FieldPath((name,)) not in contract.image_fields}
    check_request(contract, {**body, IMAGE: base64.b64encode(data).decode()})


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def striped(size: tuple[int, int]) -> Image.Image:
    """An image whose every column differs, so that a pad shows where its edge is."""
    image = Image.new("RGB", size)
    image.putdata([(x % 256, y % 256, 7) for y in range(size[1]) for x in range(size[0])])
    return image


# --- an image that fits ----------------------------------------------------------------------


def test_an_image_that_fits_comes_back_byte_for_byte(tmp_path: Path) -> None:
    data = image_bytes((768, 512), "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    for given in (data, path, str(path)):
        fitted = fit_image(INPAINT, IMAGE, given)
        assert fitted.data == data
        assert fitted.notes == []
        assert not fitted.changed
        assert fitted.size == (768, 512)


def test_a_pillow_image_that_fits_is_its_png() -> None:
    image = Image.new("RGB", (640, 480), (1, 2, 3))
    fitted = fit_image(INPAINT, IMAGE, image)
    assert fitted.notes == []
    assert opened(fitted.data).format == "PNG"
    assert opened(fitted.data).size == (640, 480)


# --- too many pixels, too long a side --------------------------------------------------------


def test_a_phone_photo_is_downsized_to_the_pixel_limit_keeping_its_shape() -> None:
    limit = rule(INPAINT).max_pixels
    assert limit is not None and limit < 4000 * 3000
    fitted = fit_image(INPAINT, IMAGE, image_bytes((4000, 3000), "JPEG"))
    width, height = fitted.size
    assert width * height <= limit
    assert width * height > limit * 0.99  # as large as the limit allows
    assert abs(width / height - 4000 / 3000) < 0.001
    assert fitted.notes == [f"resized 4000x3000 -> {width}x{height} to fit {limit:,} pixels"]
    assert opened(fitted.data).format == "JPEG"  # a format the model takes is kept
    accepted(INPAINT, fitted.data)


def test_fast_upscale_meets_both_its_side_and_its_pixel_limits() -> None:
    limits = rule(FAST_UPSCALE)
    assert limits.max_side is not None and limits.max_pixels is not None
    fitted = fit_image(FAST_UPSCALE, IMAGE, image_bytes((4000, 3000)))
    assert max(fitted.size) <= limits.max_side
    assert fitted.size[0] * fitted.size[1] <= limits.max_pixels
    assert f"to fit {limits.max_pixels:,} pixels" in fitted.notes[0]
    accepted(FAST_UPSCALE, fitted.data)


def test_a_side_too_long_is_the_limit_named() -> None:
    limits = rule(FAST_UPSCALE)
    assert limits.max_side is not None and limits.max_pixels is not None
    # Within the pixel count, one side too long.
    size = (limits.max_side * 2, limits.max_pixels // (limits.max_side * 4))
    fitted = fit_image(FAST_UPSCALE, IMAGE, image_bytes(size))
    assert max(fitted.size) == limits.max_side
    assert fitted.notes[-1].endswith(f"to fit {limits.max_side:,} px a side")
    accepted(FAST_UPSCALE, fitted.data)


# --- too small -------------------------------------------------------------------------------


def test_a_small_image_is_upsized_to_the_smallest_side() -> None:
    smallest = rule(INPAINT).min_side
    assert smallest is not None
    size = (smallest // 2, smallest * 3 // 4)
    fitted = fit_image(INPAINT, IMAGE, image_bytes(size))
    assert min(fitted.size) == smallest
    assert abs(fitted.size[0] / fitted.size[1] - size[0] / size[1]) < 0.02
    assert fitted.notes == [
        f"resized {size[0]}x{size[1]} -> {fitted.size[0]}x{fitted.size[1]} to reach at "
        f"least {smallest:,} px a side"
    ]
    accepted(INPAINT, fitted.data)


def test_too_few_pixels_are_upsized_to_the_pixel_minimum() -> None:
    # No Image Service's pixel minimum binds before its side minimum, so a rule of our own.
    own = dataclasses.replace(
        CREATIVE_UPSCALE, image_rules={IMAGE: ImageRule(min_side=8, min_pixels=10_000)}
    )
    fitted = fit_image(own, IMAGE, image_bytes((50, 40)))
    width, height = fitted.size
    assert 10_000 <= width * height < 10_400
    assert fitted.notes[0].endswith("to reach at least 10,000 pixels")


# --- aspect ratio ----------------------------------------------------------------------------


def test_too_wide_is_padded_to_the_widest_ratio_repeating_its_edges() -> None:
    widest = rule(INPAINT).max_aspect
    assert widest is not None
    source = striped((1000, 100))
    fitted = fit_image(INPAINT, IMAGE, source)
    width, height = fitted.size
    assert width == 1000 and height == math.ceil(1000 / widest)
    assert width / height <= widest
    assert fitted.notes == [
        f"padded 1000x100 -> {width}x{height} to an aspect ratio of at most {widest:g}:1 "
        "(width / height), repeating its edge pixels"
    ]
    out = opened(fitted.data).convert("RGB")
    top = (height - 100) // 2
    # The picture is centred and untouched; each added row repeats the edge row beside it.
    assert out.crop((0, top, width, top + 100)).tobytes() == source.tobytes()
    assert out.crop((0, 0, width, 1)).tobytes() == source.crop((0, 0, width, 1)).tobytes()
    last = source.crop((0, 99, width, 100)).tobytes()
    assert out.crop((0, height - 1, width, height)).tobytes() == last
    accepted(INPAINT, fitted.data)


def test_too_tall_is_padded_to_the_narrowest_ratio() -> None:
    narrowest = rule(INPAINT).min_aspect
    assert narrowest is not None
    fitted = fit_image(INPAINT, IMAGE, striped((100, 1000)))
    width, height = fitted.size
    assert height == 1000 and width / height >= narrowest
    assert width == math.ceil(1000 * narrowest)
    assert f"an aspect ratio of at least {narrowest:g}:1" in fitted.notes[0]
    accepted(INPAINT, fitted.data)


def test_an_extreme_strip_is_padded_and_downsized_without_a_giant_canvas() -> None:
    fitted = fit_image(INPAINT, IMAGE, image_bytes((64, 40_000)))
    assert [note.split()[0] for note in fitted.notes] == ["padded", "resized"]
    accepted(INPAINT, fitted.data)


def test_sides_without_an_aspect_rule_still_bound_the_shape() -> None:
    # Fast upscale states sides, not ratios: a 5000x10 strip must be padded before it can
    # be both short enough and tall enough.
    fitted = fit_image(FAST_UPSCALE, IMAGE, image_bytes((5000, 10)))
    assert fitted.notes[0].startswith("padded 5000x10 -> ")
    accepted(FAST_UPSCALE, fitted.data)


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_a_format_the_model_does_not_take_becomes_png(fmt: str) -> None:
    assert fmt not in rule(INPAINT).formats
    fitted = fit_image(INPAINT, IMAGE, image_bytes((300, 200), fmt))
    assert opened(fitted.data).format == "PNG"
    assert fitted.size == (300, 200)
    assert fitted.notes == [
        f"converted {fmt} to PNG (the model takes {', '.join(rule(INPAINT).formats)})"
    ]
    accepted(INPAINT, fitted.data)


def test_transparency_survives_a_resize() -> None:
    fitted = fit_image(INPAINT, IMAGE, image_bytes((20, 20), "PNG", "RGBA", (9, 9, 9, 0)))
    assert opened(fitted.data).mode == "RGBA"
    assert opened(fitted.data).getextrema()[3] == (0, 0)


# --- what cannot be fitted -------------------------------------------------------------------


def test_not_an_image_is_a_fit_error() -> None:
    with pytest.raises(FitError, match="not an image"):
        fit_image(INPAINT, IMAGE, b"plain text, not a picture")


def test_a_decompression_bomb_is_refused_not_decoded() -> None:
    with pytest.raises(FitError, match="too large to decode safely"):
        fit_image(INPAINT, IMAGE, base64.b64decode(png_claiming_size(100_000, 100_000)))


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fit_image(INPAINT, IMAGE, tmp_path / "missing.png")


# --- what to suggest it for ------------------------------------------------------------------


def test_needs_fit_and_unfitted_name_only_images_fit_would_mend() -> None:
    big, small_enough = image_bytes((4000, 3000), "JPEG"), image_bytes((512, 512))
    assert needs_fit(INPAINT, IMAGE, big)
    assert not needs_fit(INPAINT, IMAGE, small_enough)
    assert not needs_fit(INPAINT, IMAGE, b"not an image")
    body = {IMAGE: base64.b64encode(big).decode(), "mask": base64.b64encode(small_enough).decode()}
    assert unfitted(INPAINT, body) == [IMAGE]
