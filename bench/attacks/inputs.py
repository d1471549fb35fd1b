"""Input images that cost the mock (or the client) far more than their bytes (issue 18):
huge flat pictures, a progressive JPEG of repeated scans, a PNG of a million chunks. The
tests build small ones; the attacks, ones of the size the issue measured."""

from __future__ import annotations

import io
import re
import struct
import zlib

from PIL import Image

FLAT = (40, 80, 120)
# A marker ending a scan's coded data: 0xFF not followed by 0x00 (a stuffed byte), a
# restart marker (0xD0..0xD7) or another 0xFF (fill).
_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
_SOS = b"\xff\xda"


def flat_image(size: tuple[int, int], fmt: str = "PNG", **options: object) -> bytes:
    """A picture of one colour: a few hundred KB of PNG for 81 megapixels."""
    out = io.BytesIO()
    Image.new("RGB", size, FLAT).save(out, format=fmt, **options)
    return out.getvalue()


def _scans(jpeg: bytes) -> list[tuple[int, int]]:
    """(start, end) of each scan: its SOS segment and coded data, up to the next marker."""
    found = []
    at = jpeg.find(_SOS)
    while at != -1:
        header = struct.unpack(">H", jpeg[at + 2 : at + 4])[0]
        coded = at + 2 + header
        end = _MARKER.search(jpeg, coded)
        stop = end.start() if end else len(jpeg)
        found.append((at, stop))
        at = jpeg.find(_SOS, stop)
    return found


def scan_bomb(size: int, scans: int) -> bytes:
    """A flat progressive JPEG of ``size`` x ``size`` whose shortest AC scan (one band of
    one component, a few bytes of end-of-band runs) is repeated until it has ``scans``
    scans: each costs a decoder a pass over every block of the picture."""
    jpeg = flat_image((size, size), "JPEG", progressive=True, quality=90)
    found = _scans(jpeg)
    # Spectral selection start (Ss) above 0: an AC scan; the shortest repeats cheapest.
    ac = [(a, b) for a, b in found if jpeg[a + 5 + 2 * jpeg[a + 4]] > 0]
    start, end = min(ac, key=lambda scan: scan[1] - scan[0])
    return jpeg[:end] + jpeg[start:end] * (scans - len(found)) + jpeg[end:]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_chunks(chunks: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """A flat PNG with ``chunks`` empty private chunks after its header, and one tEXt
    chunk before its end (12 bytes a chunk: a million is 12 MB)."""
    png = flat_image(size)
    header_end = 8 + 25  # the signature and IHDR
    iend = png.rindex(b"IEND") - 4
    empty = _chunk(b"emPt", b"")
    text = _chunk(b"tEXt", b"Comment\x00one text chunk")
    return png[:header_end] + empty * chunks + png[header_end:iend] + text + png[iend:]
