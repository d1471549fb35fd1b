"""A PNG writer for pictures made mostly of repeated rows, such as the placeholder's bands.

Hand-written because no library does this: Pillow's encoder filters and deflates every row
(about 16 ms for a plain 1024x1024 RGB image on a 2-core machine even at compress_level=1),
while a row that repeats the one above is, under PNG's "Up" filter, a filter byte and zeros
whose deflated form never changes. Such runs are deflated once per row width and spliced in:
each piece is a raw deflate stream ended by a sync flush, with no back-reference outside
itself, so pieces concatenate into one valid stream (RFC 1951 section 3.2.3); the zlib
checksum over the spliced zero rows is computed arithmetically (RFC 1950, Adler-32).
Pictures with few repeated rows (image to image) go to Pillow's encoder instead.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache

from PIL import Image
from PIL.PngImagePlugin import PngInfo

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ADLER_MODULUS = 65521
LEVEL = 1  # fastest deflate: the mock's pictures are throwaway
FILTER_NONE, FILTER_UP = b"\x00", b"\x02"
ZLIB_HEADER = b"\x78\x01"  # deflate, 32K window, "fastest" level hint; header check holds
MAX_RUN_POWER = 12  # runs are spliced from pieces of 2**k rows, k < this (4096 rows)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt(key: str, text: str) -> bytes:
    # keyword, NUL, uncompressed, method 0, no language tag, no translated keyword, UTF-8 text
    return key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")


def _raw_deflate() -> zlib._Compress:
    return zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)


@lru_cache(maxsize=256)
def _repeated_rows_piece(stride: int, power: int) -> bytes:
    """2**power rows that repeat the row above, Up-filtered and deflated on their own."""
    deflate = _raw_deflate()
    row = FILTER_UP + bytes(stride)
    return deflate.compress(row * (1 << power)) + deflate.flush(zlib.Z_SYNC_FLUSH)


def _repeated_rows(stride: int, count: int) -> Iterator[bytes]:
    for power in range(MAX_RUN_POWER - 1, -1, -1):
        while count >= 1 << power:
            yield _repeated_rows_piece(stride, power)
            count -= 1 << power


def _adler_after_repeated_rows(adler: int, stride: int, count: int) -> int:
    """Adler-32 continued over ``count`` rows of one Up filter byte (2) and ``stride``
    zeros: each row adds 2 to A, then A to B once per byte."""
    a, b = adler & 0xFFFF, adler >> 16
    b = (b + (stride + 1) * (count * a + count * (count + 1))) % ADLER_MODULUS
    a = (a + 2 * count) % ADLER_MODULUS
    return (b << 16) | a


def row_runs(raw: bytes, stride: int) -> list[tuple[bytes, int]]:
    """The rows of ``raw`` as (row, times it repeats below itself), top to bottom."""
    return runs_of(raw[start : start + stride] for start in range(0, len(raw), stride))


def runs_of(rows: Iterable[bytes]) -> list[tuple[bytes, int]]:
    """``rows`` as (row, times it repeats below itself), top to bottom."""
    runs: list[tuple[bytes, int]] = []
    previous, repeats = b"", 0
    for row in rows:
        if row == previous:
            repeats += 1
            continue
        if previous:
            runs.append((previous, repeats))
        previous, repeats = row, 0
    runs.append((previous, repeats))
    return runs


def _image_data(runs: list[tuple[bytes, int]], stride: int) -> bytes:
    """The zlib stream of the IDAT chunk: distinct rows unfiltered and deflated together,
    runs of repeated rows spliced from cached pieces."""
    pieces = [ZLIB_HEADER]
    adler = zlib.adler32(b"")
    # One compressor for all distinct rows: a full flush before each splice makes it forget
    # what came before, so nothing it writes afterwards points into a spliced piece.
    deflate = _raw_deflate()
    pending: list[bytes] = []
    for row, repeats in runs:
        pending += (FILTER_NONE, row)
        if not repeats:
            continue
        data = b"".join(pending)
        pending.clear()
        pieces += (deflate.compress(data), deflate.flush(zlib.Z_FULL_FLUSH))
        adler = zlib.adler32(data, adler)
        pieces += _repeated_rows(stride, repeats)
        adler = _adler_after_repeated_rows(adler, stride, repeats)
    data = b"".join(pending)
    adler = zlib.adler32(data, adler)
    pieces += (deflate.compress(data), deflate.flush(zlib.Z_FINISH), struct.pack(">I", adler))
    return b"".join(pieces)


def _pillow_png(image: Image.Image, text: dict[str, str]) -> bytes:
    info = PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=LEVEL, optimize=False)
    return out.getvalue()


def encode_png(image: Image.Image, text: dict[str, str]) -> bytes:
    """An RGB image as PNG bytes, ``text`` in iTXt chunks before the image data."""
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {image.mode}")
    runs = row_runs(image.tobytes(), 3 * image.width)
    if len(runs) * 2 > image.height:  # mostly distinct rows: Pillow's filters do better
        return _pillow_png(image, text)
    return encode_rows(image.size, runs, text)


def encode_rows(
    size: tuple[int, int], runs: list[tuple[bytes, int]], text: dict[str, str]
) -> bytes:
    """An 8-bit RGB PNG of ``size`` from its rows as (row, times it repeats below itself),
    ``text`` in iTXt chunks before the image data."""
    width, height = size
    stride = 3 * width
    if sum(1 + repeats for _, repeats in runs) != height or any(
        len(row) != stride for row, _ in runs
    ):
        raise ValueError(f"rows do not make a {width}x{height} RGB picture")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            *(_chunk(b"iTXt", _itxt(key, value)) for key, value in text.items()),
            _chunk(b"IDAT", _image_data(runs, stride)),
            _chunk(b"IEND", b""),
        ]
    )
