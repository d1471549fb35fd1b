"""The placeholder's caption: what was asked, drawn legibly so nobody mistakes the image.

Text is drawn once onto a greyscale layer (a mask) and cached: the engine answers the same
prompt many times with different seeds, so the seed line is drawn on its own small layer.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
BANNER = "placeholder (mock Bedrock)"
MAX_PROMPT_LINES = 8
LINE_SPACING = 1.3


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    """Pillow's built-in font at ``size`` pixels; its fixed-size bitmap font when Pillow was
    built without FreeType (smaller, still legible)."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):
        return ImageFont.load_default()


def font_size(size: tuple[int, int]) -> int:
    # The narrowest allowed size (640 wide) still gets about 20 pixel letters.
    return max(12, round(min(size) / 32))


def line_height(face: Font) -> int:
    _, top, _, bottom = face.getbbox("Hgjy")
    return round((bottom - top) * LINE_SPACING) + 1


def wrap(text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """``text`` wrapped to ``width`` pixels, at most ``max_lines`` lines, an ellipsis marking
    a cut. Wrapping is by characters of average width, checked by measuring."""
    average = max(1.0, face.getlength("abcdefghijklmnopqrstuvwxyz ") / 27)
    columns = max(8, int(width / average))
    lines = textwrap.wrap(" ".join(text.split()), columns, break_long_words=True) or [""]
    while columns > 8 and any(face.getlength(line) > width for line in lines):
        columns -= 2
        lines = textwrap.wrap(" ".join(text.split()), columns, break_long_words=True)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and face.getlength(last + " ...") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " ..."
    return lines


def format_weight(weight: float) -> str:
    return f"{weight:g}"


def prompt_lines(
    prompts: Sequence[tuple[str, float]], face: Font, width: int, default_weight: float
) -> list[str]:
    """One labelled paragraph per prompt; a weight below 0 is marked as a negative prompt."""
    lines: list[str] = []
    budget = MAX_PROMPT_LINES
    for text, weight in prompts:
        if budget <= 0:
            lines[-1] = lines[-1].rstrip(" .") + " ... (more prompts)"
            break
        label = "NEGATIVE prompt" if weight < 0 else "prompt"
        if weight != default_weight or weight < 0:
            label += f" (weight {format_weight(weight)})"
        wrapped = wrap(f"{label}: {text or '(empty)'}", face, width, min(budget, 4))
        lines += wrapped
        budget -= len(wrapped)
    return lines


def draw_lines(lines: Sequence[str], face: Font, width: int) -> Image.Image:
    """A mask (mode L) with ``lines`` in white on black, ``width`` pixels wide."""
    step = line_height(face)
    layer = Image.new("L", (width, step * len(lines)))
    draw = ImageDraw.Draw(layer)
    for number, line in enumerate(lines):
        draw.text((0, number * step), line, font=face, fill=255)
    return layer


@lru_cache(maxsize=64)
def caption_layer(
    prompts: tuple[tuple[str, float], ...],
    style: str | None,
    model_id: str,
    size: tuple[int, int],
    width: int,
    default_weight: float,
) -> Image.Image:
    """Everything but the seed: banner, prompts, size and style, model id."""
    face = font(font_size(size))
    lines = [BANNER, *prompt_lines(prompts, face, width, default_weight)]
    lines.append(f"size {size[0]}x{size[1]}   style {style or '(none)'}")
    lines.append(f"model {model_id}")
    return draw_lines(lines, face, width)


@lru_cache(maxsize=256)
def seed_layer(seed: int, size: tuple[int, int], width: int) -> Image.Image:
    face = font(font_size(size))
    return draw_lines([f"seed {seed}"], face, width)
