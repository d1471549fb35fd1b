"""The placeholder's caption draws prompts in Latin, Greek and Cyrillic with real glyphs (not
the font's empty .notdef box), and a character its font lacks (CJK, say) as its code point,
``<U+6771>``; the picture stays the same bytes for the same request."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFont

from mock_bedrock import placeholder
from mock_bedrock.placeholder.text import PANEL_COLOUR, font

CORE = "stability.stable-image-core-v1:1"
CAPTION = "café Ωμέγα Привет 東京"
LETTERS = sorted({c for c in CAPTION if not c.isspace() and not c.isascii()} - set("東京"))
NO_FONT_HAS = "\U0010fffd"  # a private-use code point: every font draws its .notdef here


def bitmap(char: str, face: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> bytes:
    right, bottom = face.getbbox(char)[2:]
    image = Image.new("L", (int(right) + 2, int(bottom) + 2))
    ImageDraw.Draw(image).text((0, 0), char, font=face, fill=255)
    return image.tobytes()


def test_the_caption_font_draws_latin_greek_and_cyrillic_letters() -> None:
    face = font(24)  # the caption's font, as the placeholder loads it
    notdef = bitmap(NO_FONT_HAS, face)
    assert sorted("éΩμέγαПривет") == LETTERS
    boxes = [letter for letter in LETTERS if bitmap(letter, face) == notdef]
    assert boxes == []


def generate(client: Any, prompt: str) -> Image.Image:
    placeholder.clear_cache()  # a first render each time: nothing drawn is reused
    response = client.invoke_model(
        modelId=CORE, body=json.dumps({"prompt": prompt, "seed": 11}),
        contentType="application/json", accept="application/json",
    )
    answer = json.loads(response["body"].read())
    image = Image.open(io.BytesIO(base64.b64decode(answer["images"][0])))
    image.load()
    return image


def panel(image: Image.Image) -> Image.Image:
    """The caption panel: the box of the panel's colour (the picture behind it follows the
    prompt's hash, the panel does not)."""
    solid = Image.new("RGB", image.size, PANEL_COLOUR)
    same = ImageChops.difference(image.convert("RGB"), solid).convert("L").point(
        lambda v: 255 if v == 0 else 0)
    box = same.getbbox()
    assert box is not None
    return image.crop(box)


def test_a_character_the_font_lacks_is_drawn_as_its_code_point(bedrock_runtime: Any) -> None:
    drawn = panel(generate(bedrock_runtime, CAPTION))
    spelled = panel(generate(bedrock_runtime, "café Ωμέγα Привет <U+6771> <U+4EAC>"))
    assert drawn.size == spelled.size
    assert ImageChops.difference(drawn, spelled).getbbox() is None  # pixel for pixel


def test_a_control_character_is_drawn_as_its_code_point(bedrock_runtime: Any) -> None:
    drawn = panel(generate(bedrock_runtime, "a bell\x07rings\tand\nstops"))
    spelled = panel(generate(bedrock_runtime, "a bell <U+0007> rings and stops"))
    assert ImageChops.difference(drawn, spelled).getbbox() is None


def test_the_same_request_gives_the_same_bytes(bedrock_runtime: Any) -> None:
    first = generate(bedrock_runtime, CAPTION).tobytes()
    assert generate(bedrock_runtime, CAPTION).tobytes() == first
