"""The placeholder's caption: what was asked, drawn legibly so nobody mistakes the image.

Text is set a word at a time from cached word masks: FreeType's per-call cost (about a
millisecond for a line) dominated a first render, and a new prompt mostly repeats words
already drawn (the banner, "prompt:", the model line, common words). The seed line is set on
its own small layer, so the panel is reused when only the seed changes.

The font is DejaVu Sans, cut to Latin, Greek and Cyrillic (``fonts/README.md``); a character
it lacks is written as its code point, ``<U+6771>`` (as ``less`` shows such characters):
unlike a ``?``, that still tells which characters a prompt carried, so a wrongly decoded
prompt looks different from a right one.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Colour = tuple[int, int, int]
BANNER = "placeholder (mock Bedrock)"
MAX_PROMPT_LINES = 8
LINE_SPACING = 1.3
# The captions of pictures up to this size (every text-to-image size) are kept once drawn:
# they repeat. A larger picture's are drawn each time, and onto it in place (its panel is
# tens of megabytes); so are the words in its letters, larger than CACHED_FONT_SIZE.
CACHED_PICTURE_PIXELS = 1536 * 1536
CACHED_FONT_SIZE = 48  # font_size of a picture 1,536 px on its short side
PANEL_COLOUR = (18, 18, 24)
TEXT_COLOUR = (250, 250, 250)
SEED_COLOUR = (255, 214, 90)


FONT_FILE = "DejaVuSans-subset.ttf"
# A private-use code point of plane 16: in no font, so drawn as the font's .notdef glyph.
NOT_IN_ANY_FONT = "\U0010fffd"


@cache
def _font_data() -> bytes:
    return (resources.files(__package__) / "fonts" / FONT_FILE).read_bytes()


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    """The caption's font at ``size`` pixels; Pillow's fixed-size bitmap font (ASCII only,
    smaller, still legible) when Pillow was built without FreeType."""
    try:
        # Basic layout, as Pillow's own default font has: the same pixels whether or not
        # this Pillow has raqm, and no raqm failure on a control character in a prompt.
        return ImageFont.truetype(io.BytesIO(_font_data()), size,
                                  layout_engine=ImageFont.Layout.BASIC)
    except ImportError:  # no FreeType in this Pillow
        return ImageFont.load_default()


def _drawn(char: str, face: ImageFont.FreeTypeFont) -> tuple[tuple[float, ...], bytes]:
    box = face.getbbox(char)
    image = Image.new("L", (max(1, int(box[2]) + 1), max(1, int(box[3]) + 1)))
    ImageDraw.Draw(image).text((0, 0), char, font=face, fill=255)
    return (*box, face.getlength(char)), image.tobytes()


@lru_cache(maxsize=4096)
def covers(face: Font, char: str) -> bool:
    """Whether ``face`` has a glyph for ``char``. Pillow does not expose a font's character
    map, so FreeType is asked to draw it: a character the font lacks comes out as the
    .notdef glyph (the empty box), exactly as a character no font has."""
    if " " <= char <= "~":
        return True
    if not isinstance(face, ImageFont.FreeTypeFont):
        return False  # the bitmap fallback: ASCII only
    return _drawn(char, face) != _drawn(NOT_IN_ANY_FONT, face)


def drawable(text: str, face: Font) -> str:
    """``text`` with each character ``face`` lacks (a control character too) written as
    its code point, each such ``<U+XXXX>`` set off by spaces from what follows it, so that a
    long run of them (a Japanese sentence) can wrap between characters; any whitespace is
    a space."""
    if text.isascii() and text.isprintable():  # the font has every printable ASCII letter
        return text
    pieces: list[str] = []
    after_code = False
    for char in text:
        if char.isspace():
            char = " "  # a tab, a newline: a space, as wrapping makes of it anyway
        if covers(face, char):
            if after_code and char != " ":
                pieces.append(" ")
            pieces.append(char)
            after_code = False
            continue
        if pieces and pieces[-1] != " ":
            pieces.append(" ")
        pieces.append(f"<U+{ord(char):04X}>")
        after_code = True
    return "".join(pieces)


def font_size(size: tuple[int, int]) -> int:
    # The narrowest allowed size (640 wide) still gets about 20 pixel letters.
    return max(12, round(min(size) / 32))


def line_height(face: Font) -> int:
    _, top, _, bottom = face.getbbox("Hgjy")
    return round((bottom - top) * LINE_SPACING) + 1


def word(text: str, face: Font) -> tuple[Image.Image | None, float]:
    """``text`` (one word, no spaces) drawn as a mask (mode L) one line high, with its
    advance in pixels; no mask for the empty word between two spaces. Drawn once in the
    letters of the pictures that repeat (:data:`CACHED_FONT_SIZE`), each time in larger
    ones: 4,096 words a line of a 52-megapixel picture high would hold a gigabyte."""
    if getattr(face, "size", 0) <= CACHED_FONT_SIZE:
        return _cached_word(text, face)
    return _drawn_word(text, face)


@lru_cache(maxsize=4096)
def _cached_word(text: str, face: Font) -> tuple[Image.Image | None, float]:
    return _drawn_word(text, face)


def _drawn_word(text: str, face: Font) -> tuple[Image.Image | None, float]:
    advance = float(face.getlength(text))
    if not text:
        return None, advance
    right = max(1, int(face.getbbox(text)[2]) + 1)
    mask = Image.new("L", (right, line_height(face)))
    ImageDraw.Draw(mask).text((0, 0), text, font=face, fill=255)
    return mask, advance


def space(face: Font) -> float:
    return word(" ", face)[1]


def text_length(line: str, face: Font) -> float:
    """The width ``set_line`` gives ``line``: its words' advances and a space between each
    two (spaces keep their count, so "a   b" stays wide)."""
    words = drawable(line, face).split(" ")
    return sum(word(w, face)[1] for w in words) + space(face) * (len(words) - 1)


def set_line(layer: Image.Image, line: str, face: Font, top: int) -> None:
    """Sets ``line`` on the mask ``layer`` at row ``top``, word by word (hand-written: Pillow
    lays out only whole strings, which is the per-call cost avoided here; inside a word,
    FreeType's own layout and kerning still apply)."""
    x = 0.0
    for text in drawable(line, face).split(" "):
        mask, advance = word(text, face)
        if mask is not None:
            layer.paste(255, (round(x), top), mask)
        x += advance + space(face)


def wrap(text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """``text`` wrapped to ``width`` pixels, at most ``max_lines`` lines, an ellipsis marking
    a cut. Proportional letters: start from a generous column count, narrow until it fits."""
    words = " ".join(drawable(text, face).split())
    average = max(1.0, (text_length("abcdefghijklmnopqrstuvwxyz", face) + space(face)) / 27)
    columns = max(8, int(1.25 * width / average))
    lines = textwrap.wrap(words, columns) or [""]
    while columns > 8 and any(text_length(line, face) > width for line in lines):
        columns -= 1
        lines = textwrap.wrap(words, columns)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_length(last + " ...", face) > width:
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
    for number, line in enumerate(lines):
        set_line(layer, line, face, number * step)
    return layer


def tinted(mask: Image.Image, colour: Colour, background: Colour) -> Image.Image:
    """The mask (mode L) as RGB: ``colour`` pasted through it onto ``background``, to the
    same pixel. Done as a palette lookup, a fifth of the cost of Pillow's masked paste."""
    blends = [b + ((c - b) * alpha + 127) // 255 for c, b in zip(colour, background, strict=True)
              for alpha in range(256)]  # the rounding of Pillow's paste, channel by channel
    layer = mask.copy()
    layer.putpalette(bytes(v for alpha in range(256) for v in blends[alpha::256]))
    return layer.convert("RGB")


@dataclass(frozen=True)
class Panel:
    """Where the caption goes in a picture of ``size``: a box with a margin around it."""

    size: tuple[int, int]

    @property
    def margin(self) -> int:
        return round(min(self.size) / 24)

    @property
    def pad(self) -> int:
        return self.margin // 2

    @property
    def text_width(self) -> int:
        return self.size[0] - 2 * (self.margin + self.pad)

    def top(self, height: int) -> int:
        """The panel's top edge: a fifth of the way down, or higher if it would not fit."""
        return max(0, min(self.size[1] // 5, self.size[1] - height - self.margin))


def _panel_mask(
    prompts: tuple[tuple[str, float], ...],
    style: str | None,
    model_id: str,
    size: tuple[int, int],
    default_weight: float,
) -> tuple[Image.Image, int]:
    """The caption panel's text as a mask (mode L), everything but the seed: banner,
    prompts, size and style, model id; and the height below the text where the seed line
    goes."""
    panel = Panel(size)
    face = font(font_size(size))
    lines = [BANNER, *prompt_lines(prompts, face, panel.text_width, default_weight)]
    lines.append(f"size {size[0]}x{size[1]}   style {style or '(none)'}")
    lines.append(f"model {model_id}")
    text = draw_lines(lines, face, panel.text_width)
    height = text.height + line_height(face) + 2 * panel.pad
    mask = Image.new("L", (size[0] - 2 * panel.margin, height))
    mask.paste(text, (panel.pad, panel.pad))
    return mask, panel.pad + text.height


@lru_cache(maxsize=16)
def caption_panel(
    prompts: tuple[tuple[str, float], ...],
    style: str | None,
    model_id: str,
    size: tuple[int, int],
    default_weight: float,
) -> tuple[Image.Image, int]:
    """The caption panel (RGB) with everything but the seed, and where the seed line goes."""
    mask, seed_at = _panel_mask(prompts, style, model_id, size, default_weight)
    return tinted(mask, TEXT_COLOUR, PANEL_COLOUR), seed_at


def _seed_mask(seed: int, size: tuple[int, int]) -> Image.Image:
    return draw_lines([f"seed {seed}"], font(font_size(size)), Panel(size).text_width)


@lru_cache(maxsize=256)
def seed_layer(seed: int, size: tuple[int, int]) -> Image.Image:
    """The seed line, in its colour on the panel's (it goes where the panel is blank)."""
    return tinted(_seed_mask(seed, size), SEED_COLOUR, PANEL_COLOUR)


@dataclass(frozen=True)
class Caption:
    """A caption ready to draw: the panel and the seed line, and where they go. Each is an
    RGB layer, or for a picture too large to keep its caption, a mask (mode L) whose
    colours are pasted through it: the same pixels (``tinted`` rounds as paste does)."""

    layout: Panel
    panel: Image.Image
    seed_at: int
    seed: Image.Image

    @property
    def top(self) -> int:
        return self.layout.top(self.panel.height)

    @property
    def bottom(self) -> int:
        return self.top + self.panel.height

    def _layers(self) -> tuple[Image.Image, Image.Image]:
        if self.panel.mode == "RGB":
            return self.panel, self.seed
        return (tinted(self.panel, TEXT_COLOUR, PANEL_COLOUR),
                tinted(self.seed, SEED_COLOUR, PANEL_COLOUR))

    def drawn_over(self, rows: Iterable[bytes]) -> Iterator[bytes]:
        """The rows (RGB bytes, full width) from the panel's top edge down to its bottom,
        with the caption drawn over them: the same bytes ``draw`` gives, spliced row by row
        instead of pasted into a picture of the rows first."""
        layer, seed = self._layers()
        panel = layer.copy()
        panel.paste(seed, (self.layout.pad, self.seed_at))
        data, stride = panel.tobytes(), 3 * panel.width
        left = 3 * self.layout.margin
        right = left + stride
        for start, row in zip(range(0, len(data), stride), rows, strict=True):
            yield row[:left] + data[start : start + stride] + row[right:]

    def draw(self, canvas: Image.Image, top: int) -> None:
        """Draws onto ``canvas`` with the panel's top edge at row ``top`` of the canvas."""
        left = self.layout.margin
        seed_at = (left + self.layout.pad, top + self.seed_at)
        if self.panel.mode == "RGB":
            canvas.paste(self.panel, (left, top))
            canvas.paste(self.seed, seed_at)
            return
        box = (left, top, left + self.panel.width, top + self.panel.height)
        canvas.paste(PANEL_COLOUR, box)
        canvas.paste(TEXT_COLOUR, box, self.panel)
        seed_box = (*seed_at, seed_at[0] + self.seed.width, seed_at[1] + self.seed.height)
        canvas.paste(SEED_COLOUR, seed_box, self.seed)


def caption(
    prompts: tuple[tuple[str, float], ...],
    style: str | None,
    model_id: str,
    seed: int,
    size: tuple[int, int],
    default_weight: float,
) -> Caption:
    if size[0] * size[1] > CACHED_PICTURE_PIXELS:
        mask, seed_at = _panel_mask(prompts, style, model_id, size, default_weight)
        return Caption(Panel(size), mask, seed_at, _seed_mask(seed, size))
    panel, seed_at = caption_panel(prompts, style, model_id, size, default_weight)
    return Caption(Panel(size), panel, seed_at, seed_layer(seed, size))


def clear_text_cache() -> None:
    """Forget drawn words, panels and seed lines (the fonts stay loaded)."""
    for cached in (_cached_word, covers, caption_panel, seed_layer):
        cached.cache_clear()
