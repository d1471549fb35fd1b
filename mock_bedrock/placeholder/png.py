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


# Rows are read from a picture this many at a time, and distinct rows deflated this many
# bytes at a time: a large picture is never held whole as bytes beside itself.
ROWS_AT_ONCE = 64
DEFLATE_BYTES = 1 << 20


def image_rows(image: Image.Image) -> Iterator[bytes]:
    """The rows of an RGB ``image`` as bytes, top to bottom, read a block at a time."""
    width, height = image.size
    stride = 3 * width
    for top in range(0, height, ROWS_AT_ONCE):
        block = image.crop((0, top, width, min(height, top + ROWS_AT_ONCE))).tobytes()
        for start in range(0, len(block), stride):
            yield block[start : start + stride]


def iter_runs(rows: Iterable[bytes]) -> Iterator[tuple[bytes, int]]:
    """``rows`` as (row, times it repeats below itself), top to bottom, as they end."""
    previous: bytes | None = None
    repeats = 0
    for row in rows:
        if row == previous:
            repeats += 1
            continue
        if previous is not None:
            yield previous, repeats
        previous, repeats = row, 0
    if previous is not None:
        yield previous, repeats


def runs_of(rows: Iterable[bytes]) -> list[tuple[bytes, int]]:
    """``rows`` as (row, times it repeats below itself), top to bottom."""
    return list(iter_runs(rows))


def _image_data(runs: Iterable[tuple[bytes, int]], size: tuple[int, int]) -> bytes:
    """The zlib stream of the IDAT chunk: distinct rows unfiltered and deflated together,
    runs of repeated rows spliced from cached pieces. ValueError unless the runs make a
    picture of ``size`` (checked as they come: they may be read from a picture once)."""
    width, height = size
    stride = 3 * width
    pieces = [ZLIB_HEADER]
    adler = zlib.adler32(b"")
    # One compressor for all distinct rows: a full flush before each splice makes it forget
    # what came before, so nothing it writes afterwards points into a spliced piece.
    deflate = _raw_deflate()
    pending: list[bytes] = []
    waiting = rows = 0

    def deflate_pending(flush: int | None) -> None:
        nonlocal adler, waiting
        data = b"".join(pending)
        pending.clear()
        waiting = 0
        adler = zlib.adler32(data, adler)
        pieces.append(deflate.compress(data))
        if flush is not None:
            pieces.append(deflate.flush(flush))

    for row, repeats in runs:
        if len(row) != stride:
            raise ValueError(f"rows do not make a {width}x{height} RGB picture")
        rows += 1 + repeats
        pending += (FILTER_NONE, row)
        waiting += 1 + stride
        if not repeats:
            if waiting >= DEFLATE_BYTES:
                deflate_pending(None)
            continue
        deflate_pending(zlib.Z_FULL_FLUSH)
        pieces += _repeated_rows(stride, repeats)
        adler = _adler_after_repeated_rows(adler, stride, repeats)
    if rows != height:
        raise ValueError(f"rows do not make a {width}x{height} RGB picture")
    deflate_pending(zlib.Z_FINISH)
    pieces.append(struct.pack(">I", adler))
    return b"".join(pieces)


def _pillow_png(image: Image.Image, text: dict[str, str]) -> bytes:
    info = PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=LEVEL, optimize=False)
    return out.getvalue()


def encode_png(image: Image.Image, text: dict[str, str]) -> bytes:
    """An RGB image as PNG bytes, ``text`` in iTXt chunks before the image data. Its rows
    are read twice, a block at a time (to count its runs, then to write them), rather than
    held as bytes beside the picture."""
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {image.mode}")
    distinct = sum(1 for _ in iter_runs(image_rows(image)))
    if distinct * 2 > image.height:  # mostly distinct rows: Pillow's filters do better
        return _pillow_png(image, text)
    return encode_rows(image.size, iter_runs(image_rows(image)), text)


def encode_rows(
    size: tuple[int, int], runs: Iterable[tuple[bytes, int]], text: dict[str, str]
) -> bytes:
    """An 8-bit RGB PNG of ``size`` from its rows as (row, times it repeats below itself),
    ``text`` in iTXt chunks before the image data."""
    width, height = size
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            *(_chunk(b"iTXt", _itxt(key, value)) for key, value in text.items()),
            _chunk(b"IDAT", _image_data(runs, size)),
            _chunk(b"IEND", b""),
        ]
    )
