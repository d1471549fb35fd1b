"""``sdxl migrate`` of SDXL's masking bodies to the Image Services (issue 19): the input image
and its mask carry to inpaint (a black-painting mask inverted, the init image's transparency
kept for the target to read), the painted pixels are the same ones on the wire, and a body
the target refuses is reported as the migrated body, not as the source."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image, ImageChops

from sdxl_adapter import errors
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.client import BedrockImageClient
from sdxl_adapter.migration import MigrationRefused, migrate
from sdxl_adapter.request import ModelRequest

INPAINT = "us.stability.stable-image-inpaint-v1:0"
SIZE = (1024, 1024)  # one of SDXL's sizes
DOOR = (400, 500, 600, 900)  # the region the mask paints: left, top, right, bottom


def b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def decoded(text: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(text)))


def house() -> Image.Image:
    # Not flat: a changed pixel differs from the input's.
    image = Image.new("RGB", SIZE, (90, 120, 200))
    image.paste((200, 180, 90), (0, 700, 1024, 1024))
    return image


def mask(painted: str) -> Image.Image:
    """A mask that paints DOOR, by white (MASK_IMAGE_WHITE) or by black (MASK_IMAGE_BLACK)."""
    inside, outside = (255, 0) if painted == "white" else (0, 255)
    image = Image.new("L", SIZE, outside)
    image.paste(inside, DOOR)
    return image


def masking_body(source: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text_prompts": [{"text": "a red door"}, {"text": "blur", "weight": -1}],
        "mask_source": source, "cfg_scale": 9, "steps": 30, "image_strength": 0.4,
        "seed": 11,
    }
    if source == "INIT_IMAGE_ALPHA":
        rgba = house().convert("RGBA")
        rgba.putalpha(mask("black"))  # transparent where the door is: that is painted
        body["init_image"] = b64(rgba)
    else:
        body["init_image"] = b64(house())
        body["mask_image"] = b64(mask("white" if source == "MASK_IMAGE_WHITE" else "black"))
    return body


def painted_by(target_mask: Image.Image) -> set[tuple[int, int]]:
    grey = target_mask.convert("L")
    return {(x, y) for x in range(0, SIZE[0], 8) for y in range(0, SIZE[1], 8)
            if grey.getpixel((x, y)) >= 128}


DOOR_PIXELS = painted_by(mask("white"))


@pytest.mark.parametrize("source", ["MASK_IMAGE_WHITE", "MASK_IMAGE_BLACK"])
def test_the_mask_carries_to_inpaint_painting_the_same_pixels(source: str) -> None:
    body = masking_body(source)
    moved = migrate(body, INPAINT)
    assert moved.body["image"] == body["init_image"]
    # Inpaint paints the white of its mask: a black-painting mask comes inverted.
    assert painted_by(decoded(moved.body["mask"])) == DOOR_PIXELS
    if source == "MASK_IMAGE_WHITE":
        assert moved.body["mask"] == body["mask_image"]
    assert moved.body["prompt"] == "a red door"
    assert moved.body["negative_prompt"] == "blur"
    assert moved.body["grow_mask"] == 0  # SDXL did not grow its mask; inpaint would by 5
    assert moved.body["seed"] == 11
    dropped = dict(moved.dropped)
    assert set(dropped) == {"cfg_scale", "steps", "image_strength"}
    assert "masked pixels wholly" in dropped["image_strength"]


def test_to_erase_object_the_mask_carries_and_the_prompt_is_listed_as_dropped() -> None:
    moved = migrate(masking_body("MASK_IMAGE_WHITE"), "us.stability.stable-image-erase-object-v1:0")
    assert set(moved.body) == {"image", "mask", "grow_mask", "seed"}
    assert dict(moved.dropped)["text_prompts"] == (
        "Stable Image Erase Object takes no prompt: 'a red door' dropped")


def test_the_init_images_transparency_is_left_for_inpaint_to_read() -> None:
    body = masking_body("INIT_IMAGE_ALPHA")
    moved = migrate(body, INPAINT)
    assert moved.body["image"] == body["init_image"]
    assert "mask" not in moved.body
    changed = dict(moved.changed)
    assert "paints the transparent pixels of image" in changed["mask_source"]


@pytest.mark.parametrize("source", ["MASK_IMAGE_BLACK", "INIT_IMAGE_ALPHA"])
def test_on_the_wire_inpaint_changes_only_what_sdxl_painted(source: str) -> None:
    body = masking_body(source)
    moved = migrate(body, INPAINT)
    with BedrockImageClient("mock") as client:
        result = client.generate(ModelRequest.from_body(INPAINT, moved.body))
    out = result.image.convert("RGB")
    assert out.size == SIZE
    differs = ImageChops.difference(out, house()).convert("L")
    changed = {(x, y) for x in range(0, SIZE[0], 8) for y in range(0, SIZE[1], 8)
               if differs.getpixel((x, y))}
    assert changed <= DOOR_PIXELS  # every other pixel is the input's
    assert len(changed) > 0.9 * len(DOOR_PIXELS)


def sdxl(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_the_command_prints_a_body_inpaint_takes_and_lists_what_did_not_carry() -> None:
    # No --model-id: migrate moves off SDXL by default (the group's default model is Core).
    done = sdxl("migrate", "-", "--to", INPAINT, input=json.dumps(masking_body("MASK_IMAGE_BLACK")))
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert set(body) == {"prompt", "negative_prompt", "image", "mask", "grow_mask", "seed"}
    valid = sdxl("--model-id", INPAINT, "validate", "-", input=done.stdout)
    assert (valid.exit_code, valid.stdout) == (0, "valid\n")
    notes = done.stderr.splitlines()
    assert "dropped cfg_scale: Stable Image Inpaint has no guidance scale (how strictly the " \
           "image follows the prompt)" in notes
    assert any(line.startswith("changed mask_image: became mask, inverted") for line in notes)


def test_a_body_inpaint_cannot_take_is_reported_as_the_migrated_body() -> None:
    text_only = json.dumps({"text_prompts": [{"text": "a door"}], "cfg_scale": 9})
    valid = sdxl("--model-id", "stability.stable-diffusion-xl-v1", "validate", "-",
                 input=text_only)
    assert valid.exit_code == 0, valid.output
    done = sdxl("migrate", "-", "--to", INPAINT, input=text_only)
    assert done.exit_code == ExitCode.REFUSED_LOCALLY
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[-1] == (
        "Error: the migrated body is not a valid Stable Image Inpaint request, nothing "
        "printed: Malformed input request: #: required key [image] not found, please "
        "reformat your input and try again.")
    assert "dropped cfg_scale: Stable Image Inpaint has no guidance scale (how strictly " \
           "the image follows the prompt)" in lines
    assert "Stable Diffusion XL" not in done.stderr


def test_the_library_raises_the_migrated_bodys_refusal() -> None:
    with pytest.raises(MigrationRefused) as refused:
        migrate({"text_prompts": [{"text": "a door"}]}, INPAINT)
    assert isinstance(refused.value, errors.InvalidRequest)
    assert refused.value.target == "Stable Image Inpaint"
    assert refused.value.body == {"prompt": "a door"}
    assert [v.pointer for v in refused.value.violations] == ["#"]


def test_a_source_body_that_is_not_valid_is_still_the_sources_fault(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"text_prompts": [{"text": "x"}], "steps": 5}))
    done = sdxl("migrate", str(bad), "--to", INPAINT)
    assert done.exit_code == ExitCode.REFUSED_LOCALLY
    assert done.stderr.startswith(
        "Error: not a valid Stable Diffusion XL 1.0 request, nothing migrated: ")
