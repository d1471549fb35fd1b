"""The mock's placeholder PNGs: size, determinism, what they show, what they carry."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import random
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from mock_bedrock import placeholder
from mock_bedrock.engines.sdxl import render_png
from mock_bedrock.placeholder import read_parameters
from mock_bedrock.placeholder.png import encode_png, encode_rows
from mock_bedrock.placeholder.text import MAX_PROMPT_LINES, font, prompt_lines
from tests.support.sdxl_contract import allowed_sizes, check_request, field

MODEL = "stability.stable-diffusion-xl-v1"
PROMPT = {"text": "A lighthouse on a cliff at dusk, volumetric light"}
SMALL = (640, 1536)  # the smallest allowed area: keeps image tests quick


def render(body: Mapping[str, Any], seed: int = 42, blurred: bool = False) -> bytes:
    """Renders as the engine does: from a body that passed check_request."""
    valid = check_request(dict(body))
    return render_png(valid.body, seed=seed, model_id=MODEL, images=valid.images, blurred=blurred)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel value, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def b64_png(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def noise(size: tuple[int, int], seed: int = 7, mode: str = "RGB") -> Image.Image:
    """A busy picture: every pixel differs from its neighbours, so no placeholder pixel
    matches it by accident. A tile of random pixels repeated across: cheap to compress."""
    rng = random.Random(seed)
    tile_size = (min(size[0], 97), min(size[1], 89))
    tile = Image.frombytes(mode, tile_size, rng.randbytes(tile_size[0] * tile_size[1] * len(mode)))
    picture = Image.new(mode, size)
    for x in range(0, size[0], tile_size[0]):
        for y in range(0, size[1], tile_size[1]):
            picture.paste(tile, (x, y))
    return picture


@pytest.fixture(autouse=True)
def no_cached_results() -> None:
    # Each test renders for real: a cached answer would hide a nondeterministic renderer.
    placeholder.clear_cache()


# --- size and format -----------------------------------------------------------------


@pytest.mark.parametrize("size", allowed_sizes(), ids=lambda s: f"{s[0]}x{s[1]}")
def test_output_has_the_requested_size_for_every_allowed_pair(size: tuple[int, int]) -> None:
    image = decode(render({"text_prompts": [PROMPT], "width": size[0], "height": size[1]}))
    assert image.format == "PNG"
    assert image.mode == "RGB"
    assert image.size == size


def test_size_defaults_come_from_the_schema() -> None:
    image = decode(render({"text_prompts": [PROMPT]}))
    assert image.size == (field("width")["default"], field("height")["default"])


# --- determinism ---------------------------------------------------------------------


def test_same_inputs_give_the_same_bytes() -> None:
    body = {"text_prompts": [PROMPT], "style_preset": "anime", "width": SMALL[0],
            "height": SMALL[1], "cfg_scale": 9, "extras": {"b": 1, "a": [1, 2]}}
    first = render(body)
    placeholder.clear_cache()
    assert render(body) == first
    reordered = dict(reversed(list(body.items())))
    reordered["extras"] = {"a": [1, 2], "b": 1}
    placeholder.clear_cache()
    assert render(reordered) == first


def test_repeat_renders_draw_the_same_bytes_from_cached_words() -> None:
    # The second render sets its caption from cached word masks, the first drew them all.
    body = {"text_prompts": [PROMPT], "width": SMALL[0], "height": SMALL[1]}
    first = render(body, seed=5)
    assert render(body, seed=5) == first
    assert render(body, seed=6) != first


def test_same_bytes_in_processes_with_different_hash_seeds() -> None:
    program = (
        "import hashlib, sys\n"
        "from mock_bedrock.engines.sdxl import render_png\n"
        "body = {'text_prompts': [{'text': 'a cat', 'weight': 1.5}, "
        "{'text': 'dog', 'weight': -0.5}], 'style_preset': 'origami', 'steps': 40, "
        "'extras': {'x': 1, 'y': 2, 'z': 3}}\n"
        "png = render_png(body, seed=123456789, model_id=sys.argv[1])\n"
        "print(hashlib.sha256(png).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", program, MODEL],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        )
        digests.add(done.stdout.strip())
    body = {"text_prompts": [{"text": "a cat", "weight": 1.5}, {"text": "dog", "weight": -0.5}],
            "style_preset": "origami", "steps": 40, "extras": {"x": 1, "y": 2, "z": 3}}
    digests.add(hashlib.sha256(render_png(body, seed=123456789, model_id=MODEL)).hexdigest())
    assert len(digests) == 1


# --- what the picture shows ----------------------------------------------------------

BASE = {"text_prompts": [PROMPT], "style_preset": "anime", "width": SMALL[0], "height": SMALL[1]}


@pytest.mark.parametrize(
    ("change", "seed"),
    [
        ({}, 43),
        ({"text_prompts": [{"text": "A lighthouse on a cliff at dawn, volumetric light"}]}, 42),
        ({"style_preset": "neon-punk"}, 42),
        ({"style_preset": "pixel-art"}, 42),
    ],
    ids=["seed", "prompt", "style", "another-style"],
)
def test_different_seed_prompt_or_style_gives_visibly_different_pixels(
    change: dict[str, Any], seed: int
) -> None:
    original = decode(render(BASE, seed=42))
    changed = decode(render({**BASE, **change}, seed=seed))
    # Not a caption edit: the colours and layout of the whole picture move.
    assert mean_difference(original, changed) > 10


def test_caption_marks_negative_prompts_and_weights() -> None:
    face = font(24)
    lines = prompt_lines((("sunny beach", 1.0), ("rain", -1.0), ("palm trees", 0.5)), face,
                         900, 1.0)
    assert lines[0] == "prompt: sunny beach"
    assert lines[1] == "NEGATIVE prompt (weight -1): rain"
    assert lines[2] == "prompt (weight 0.5): palm trees"


def test_long_prompts_are_wrapped_to_the_width_and_cut_with_an_ellipsis() -> None:
    face = font(20)
    long_text = " ".join(["word"] * 2000)[:2000]
    lines = prompt_lines(((long_text, 1.0),), face, 500, 1.0)
    assert 1 < len(lines) <= MAX_PROMPT_LINES
    assert all(face.getlength(line) <= 500 for line in lines)
    assert lines[-1].endswith("...")


def test_longest_prompts_fit_the_narrowest_size() -> None:
    body = {"text_prompts": [{"text": "x" * 2000}, {"text": "y " * 1000, "weight": -1}],
            "width": 640, "height": 1536}
    assert decode(render(body)).size == (640, 1536)


# --- what the PNG carries ------------------------------------------------------------


def test_parameters_round_trip_through_the_text_chunk() -> None:
    body = {"text_prompts": [PROMPT, {"text": "fog", "weight": -0.7}], "cfg_scale": 12,
            "sampler": "K_EULER", "seed": 0, "steps": 44, "style_preset": "origami",
            "clip_guidance_preset": "FAST_BLUE", "width": 1536, "height": 640,
            "extras": {"ünïcode": "ok"}}
    params = read_parameters(render(body, seed=99))
    assert params["model_id"] == MODEL
    assert params["seed"] == 99
    assert params["requested_seed"] == 0
    assert params["size"] == [1536, 640]
    assert params["prompts"] == [
        {"text": PROMPT["text"], "weight": field("text_prompts")["items"]["properties"]
         ["weight"]["default"]},
        {"text": "fog", "weight": -0.7},
    ]
    for key in ("cfg_scale", "sampler", "steps", "style_preset", "clip_guidance_preset",
                "width", "height", "extras"):
        assert params[key] == body[key]
    assert params["blurred"] is False


def test_images_are_carried_as_digests_not_as_base64() -> None:
    init = noise(SMALL)
    encoded = b64_png(init)
    params = read_parameters(render({"text_prompts": [PROMPT], "init_image": encoded}))
    raw = base64.b64decode(encoded)
    assert params["init_image"] == {
        "sha256": hashlib.sha256(raw).hexdigest()[:16],
        "bytes": len(raw),
        "size": list(SMALL),
    }
    assert encoded not in repr(params)


def test_read_parameters_refuses_a_png_that_is_not_a_placeholder() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    with pytest.raises(ValueError, match="not a mock Bedrock placeholder"):
        read_parameters(out.getvalue())
    with pytest.raises(ValueError, match="not an image"):
        read_parameters(b"definitely not an image")


# --- image to image ------------------------------------------------------------------


def test_output_keeps_more_of_the_init_image_at_higher_strength() -> None:
    init = noise(SMALL)
    body = {"text_prompts": [PROMPT], "init_image": b64_png(init)}
    distances = [
        mean_difference(decode(render({**body, "image_strength": s})), init)
        for s in (0.0, 0.3, 0.6, 0.9)
    ]
    assert distances == sorted(distances, reverse=True)
    assert distances[0] - distances[-1] > 30


def test_step_schedule_keeps_less_the_later_the_schedule_starts() -> None:
    init = noise(SMALL)
    body = {"text_prompts": [PROMPT], "init_image": b64_png(init),
            "init_image_mode": "STEP_SCHEDULE"}
    early = mean_difference(decode(render({**body, "step_schedule_start": 0.2})), init)
    late = mean_difference(decode(render({**body, "step_schedule_start": 0.9})), init)
    assert early < late


@pytest.mark.parametrize(
    ("mode", "name"),
    [("IMAGE_STRENGTH", "image_strength"), ("STEP_SCHEDULE", "step_schedule_start")],
)
def test_image_to_image_defaults_come_from_the_schema(mode: str, name: str) -> None:
    body = {"text_prompts": [PROMPT], "init_image": b64_png(noise(SMALL)),
            "init_image_mode": mode}
    implicit = decode(render(body))
    explicit = decode(render({**body, name: field(name)["default"]}))
    other = decode(render({**body, name: 1 - field(name)["default"]}))
    assert implicit.tobytes() == explicit.tobytes()
    assert implicit.tobytes() != other.tobytes()


def test_output_of_image_to_image_has_the_init_image_size() -> None:
    init = noise((1152, 896))
    image = decode(render({"text_prompts": [PROMPT], "init_image": b64_png(init)}))
    assert image.size == (1152, 896)
    assert image.mode == "RGB"


def test_images_are_decoded_from_the_body_when_not_handed_over() -> None:
    body = {"text_prompts": [PROMPT], "init_image": b64_png(noise(SMALL)),
            "mask_source": "MASK_IMAGE_WHITE", "mask_image": b64_png(half_mask(SMALL))}
    handed = render(body)
    placeholder.clear_cache()
    assert render_png(body, seed=42, model_id=MODEL) == handed


# --- masking -------------------------------------------------------------------------


def half_mask(size: tuple[int, int], left: int = 255, right: int = 0) -> Image.Image:
    """Left half one grey level, right half another."""
    mask = Image.new("L", size, right)
    mask.paste(left, (0, 0, size[0] // 2, size[1]))
    return mask


def assert_replaced_only(output: Image.Image, init: Image.Image, replaced: Image.Image) -> None:
    """Every pixel outside ``replaced`` (mode L, 255 = replaced) is the init image's, byte
    for byte; nearly every pixel inside differs from it."""
    init = init.convert("RGB")
    kept = Image.eval(replaced, lambda v: 255 - v)
    blank = Image.new("RGB", init.size)
    assert (
        Image.composite(output, blank, kept).tobytes()
        == Image.composite(init, blank, kept).tobytes()
    )
    changed = ImageChops.difference(output, init).convert("L").point(lambda v: 255 if v else 0)
    changed_inside = ImageStat.Stat(ImageChops.multiply(changed, replaced)).sum[0] / 255
    inside = ImageStat.Stat(replaced).sum[0] / 255
    assert inside > 0
    assert changed_inside / inside > 0.95


@pytest.mark.parametrize(
    ("source", "mask_levels", "replaced_levels"),
    [
        # the mask's left half at the threshold's two sides: 128 is white, 127 is black
        ("MASK_IMAGE_WHITE", (128, 127), (255, 0)),
        ("MASK_IMAGE_BLACK", (128, 127), (0, 255)),
    ],
)
def test_mask_image_replaces_white_or_black_pixels_only(
    source: str, mask_levels: tuple[int, int], replaced_levels: tuple[int, int]
) -> None:
    init = noise(SMALL)
    mask = half_mask(SMALL, *mask_levels)
    output = decode(render({"text_prompts": [PROMPT], "init_image": b64_png(init),
                            "mask_source": source, "mask_image": b64_png(mask)}))
    assert_replaced_only(output, init, half_mask(SMALL, *replaced_levels))


def test_mask_image_in_colour_is_read_by_luminance() -> None:
    init = noise(SMALL)
    mask = Image.new("RGB", SMALL, (0, 0, 255))  # pure blue: luminance 29, black
    mask.paste((0, 255, 0), (0, 0, SMALL[0] // 2, SMALL[1]))  # pure green: 150, white
    output = decode(render({"text_prompts": [PROMPT], "init_image": b64_png(init),
                            "mask_source": "MASK_IMAGE_WHITE", "mask_image": b64_png(mask)}))
    assert_replaced_only(output, init, half_mask(SMALL))


def test_init_image_alpha_replaces_transparent_pixels_only() -> None:
    init = noise(SMALL, mode="RGBA")
    # left half just transparent enough (127), right half just opaque enough (128)
    init.putalpha(half_mask(SMALL, 127, 128))
    output = decode(render({"text_prompts": [PROMPT], "init_image": b64_png(init),
                            "mask_source": "INIT_IMAGE_ALPHA"}))
    assert output.mode == "RGB"
    assert_replaced_only(output, init, half_mask(SMALL))


# --- content filtered ----------------------------------------------------------------


def edge_energy(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def test_blurred_image_differs_and_is_smoother() -> None:
    body = {"text_prompts": [PROMPT], "width": SMALL[0], "height": SMALL[1]}
    sharp = decode(render(body))
    blurred_png = render(body, blurred=True)
    blurred = decode(blurred_png)
    assert blurred.size == sharp.size
    assert mean_difference(sharp, blurred) > 1
    assert edge_energy(blurred) < edge_energy(sharp) / 2
    assert read_parameters(blurred_png)["blurred"] is True


def test_blurred_masked_image_is_blurred_after_masking() -> None:
    init = noise(SMALL)
    body = {"text_prompts": [PROMPT], "init_image": b64_png(init),
            "mask_source": "MASK_IMAGE_WHITE", "mask_image": b64_png(half_mask(SMALL))}
    blurred = decode(render(body, blurred=True))
    # the kept half is blurred too: it no longer equals the init image
    right = (SMALL[0] // 2 + 20, 0, SMALL[0], SMALL[1])
    assert mean_difference(blurred.crop(right), init.crop(right)) > 20


# --- the PNG writer ------------------------------------------------------------------


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: Image.new("RGB", (37, 5), (1, 2, 3)), id="solid"),
        pytest.param(lambda: noise((31, 17)), id="all-distinct-rows"),
        pytest.param(lambda: noise((300, 1)).resize((300, 5000), Image.Resampling.NEAREST),
                     id="one-row-repeated-past-the-largest-piece"),
        pytest.param(lambda: Image.merge("RGB", [noise((50, 8), mode="L").resize(
            (50, 400), Image.Resampling.NEAREST)] * 3), id="bands"),
    ],
)
def test_png_writer_round_trips_pixels_and_text(picture: Any) -> None:
    image = picture()
    png = encode_png(image, {"sdxl-mock": "ünïcode ✓", "other": "x"})
    back = decode(png)
    assert back.size == image.size
    assert back.mode == "RGB"
    assert back.tobytes() == image.tobytes()
    assert back.info["sdxl-mock"] == "ünïcode ✓"
    assert back.info["other"] == "x"


def test_png_writer_refuses_other_modes() -> None:
    with pytest.raises(ValueError, match="RGB"):
        encode_png(Image.new("RGBA", (4, 4)), {})


@pytest.mark.parametrize("size", [(1024, 1024), (640, 1536), (1536, 640)], ids=str)
def test_text_to_image_drawn_as_rows_matches_the_whole_picture(size: tuple[int, int]) -> None:
    # Text to image skips building the whole picture; it must still be the same picture.
    body = {"text_prompts": [PROMPT], "width": size[0], "height": size[1]}
    params = read_parameters(render(body))
    whole = placeholder.picture(params, placeholder.Look(None, 1))
    assert decode(render(body)).tobytes() == whole.tobytes()


def test_png_writer_refuses_rows_that_do_not_make_the_size() -> None:
    with pytest.raises(ValueError, match="4x3"):
        encode_rows((4, 3), [(bytes(12), 1)], {})
    with pytest.raises(ValueError, match="4x3"):
        encode_rows((4, 3), [(bytes(11), 2)], {})
