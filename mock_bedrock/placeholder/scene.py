"""The placeholder's background: bands of horizontal gradients with stripes.

Colours and geometry come from a SHAKE-256 stream over the seed and prompts; the palette's
hue family comes from the style preset's name, so styles look different without a table of
styles written here (the schema alone lists them). Every band repeats one row of pixels,
which keeps the picture cheap to draw and to encode (see placeholder_png).
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise, repeat

from PIL import Image

Colour = tuple[int, int, int]
BAND_UNITS = 64
BAND_BLOCK = 256  # rows of a band drawn at once (a 1024-wide block is 1 MiB)


class HashStream:
    """Deterministic numbers from a key: the same on every machine, process and Python
    version (``random.Random`` promises less across versions)."""

    def __init__(self, *key: object) -> None:
        self._bytes = hashlib.shake_256(repr(key).encode()).digest(1024)
        self._at = 0

    def unit(self) -> float:
        """A number in [0, 1)."""
        if self._at + 4 > len(self._bytes):
            self._bytes = hashlib.shake_256(self._bytes).digest(1024)
            self._at = 0
        value = int.from_bytes(self._bytes[self._at : self._at + 4], "big")
        self._at += 4
        return value / 2**32

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + int(self.unit() * (high - low + 1))


def palette(style: str | None, rng: HashStream, count: int = 5) -> list[Colour]:
    """``count`` colours in the style's hue family; shades vary with the seed and prompts."""
    family = HashStream("style", style or "")
    base_hue = family.unit()
    spread = 0.08 + 0.3 * family.unit()
    saturation = 0.35 + 0.55 * family.unit() if style else 0.25
    colours = []
    for _ in range(count):
        hue = (base_hue + spread * (rng.unit() - 0.5)) % 1.0
        value = 0.35 + 0.6 * rng.unit()
        sat = min(1.0, saturation * (0.7 + 0.6 * rng.unit()))
        r, g, b = colorsys.hsv_to_rgb(hue, sat, value)
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return colours


def band_row(width: int, colours: list[Colour], rng: HashStream) -> bytes:
    """One row of pixels (RGB bytes): a gradient between two colours crossed by stripes."""
    pick = len(colours) - 1
    ends = Image.new("RGB", (2, 1))
    ends.putpixel((0, 0), colours[rng.between(0, pick)])
    ends.putpixel((1, 0), colours[rng.between(0, pick)])
    row = ends.resize((width, 1), Image.Resampling.BILINEAR)
    for _ in range(rng.between(0, 4)):
        x = rng.between(0, width - 1)
        stripe = max(2, round(width * 0.06 * rng.unit()))
        row.paste(colours[rng.between(0, pick)], (x, 0, min(width, x + stripe), 1))
    return row.tobytes()


@dataclass(frozen=True)
class Bands:
    """A picture of horizontal bands, each one row of pixels repeated: kept as rows, so a
    caller can draw just the rows it changes and hand the rest to the PNG writer as runs."""

    width: int
    rows: tuple[bytes, ...]
    heights: tuple[int, ...]

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, sum(self.heights))

    def _spans(self, top: int, bottom: int) -> Iterator[tuple[bytes, int]]:
        """(row, how many of rows top..bottom show it), top to bottom."""
        start = 0
        for row, height in zip(self.rows, self.heights, strict=True):
            overlap = min(bottom, start + height) - max(top, start)
            if overlap > 0:
                yield row, overlap
            start += height

    def image(self, top: int = 0, bottom: int | None = None) -> Image.Image:
        """Rows ``top`` to ``bottom`` (default: all) as an RGB image. Each band is its row
        stretched by Pillow (joining the rows' bytes first cost two 3 MB Python objects a
        megapixel, and their page faults: 1.3 ms steady against 0.9-8.7 ms), to at most
        :data:`BAND_BLOCK` rows, pasted down the band: a tall band of a large picture is
        never a second copy of itself."""
        bottom = self.size[1] if bottom is None else bottom
        canvas = Image.new("RGB", (self.width, bottom - top))
        at = 0
        for row, count in self._spans(top, bottom):
            strip = Image.frombytes("RGB", (self.width, 1), row)
            block = strip.resize((self.width, min(count, BAND_BLOCK)), Image.Resampling.NEAREST)
            for y in range(at, at + count, BAND_BLOCK):
                # The last block may run into the next band, which is pasted over it.
                canvas.paste(block, (0, y))
            at += count
        return canvas

    def rows_between(self, top: int, bottom: int) -> Iterator[bytes]:
        """Rows ``top`` to ``bottom``, one by one (repeats are the same bytes object)."""
        for row, count in self._spans(top, bottom):
            yield from repeat(row, count)

    def runs(self, top: int, bottom: int) -> list[tuple[bytes, int]]:
        """Rows ``top`` to ``bottom`` as (row, times it repeats below itself)."""
        return [(row, count - 1) for row, count in self._spans(top, bottom)]


def background(size: tuple[int, int], style: str | None, rng: HashStream) -> Bands:
    width, height = size
    colours = palette(style, rng)
    # Band edges fall on a grid of BAND_UNITS rows (every allowed height is a multiple of
    # 64, so the grid is exact), giving the same layout at every size.
    count = rng.between(4, 11)
    cuts = sorted({0, BAND_UNITS, *(rng.between(1, BAND_UNITS - 1) for _ in range(count - 1))})
    edges = [cut * height // BAND_UNITS for cut in cuts]
    heights = tuple(b - a for a, b in pairwise(edges))
    rows = tuple(band_row(width, colours, rng) for _ in heights)
    return Bands(width, rows, heights)
