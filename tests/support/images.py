"""Small image fixtures shared by the tests: base64 PNG/JPEG/GIF bytes made with Pillow."""

from __future__ import annotations

import base64
import io
import struct
import zlib

from PIL import Image


def image_bytes(
    size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", color: object = (90, 120, 200)
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt)
    return out.getvalue()


def b64_image(
    size: tuple[int, int] = (1024, 1024),
    fmt: str = "PNG",
    mode: str = "RGB",
    color: object = (90, 120, 200),
) -> str:
    return base64.b64encode(image_bytes(size, fmt, mode, color)).decode()


def png_claiming_size(width: int, height: int) -> str:
    """A PNG whose header claims a huge size: a decompression bomb's first bytes."""
    raw = image_bytes((1, 1))
    ihdr_data = struct.pack(">II", width, height) + raw[24:29]
    chunk = b"IHDR" + ihdr_data
    patched = raw[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]
    return base64.b64encode(patched).decode()
