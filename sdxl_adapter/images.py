"""Image inputs as callers hold them (bytes, a file path, a Pillow image) turned into bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

# str is a path here, never base64: base64 only exists inside the request body.
ImageInput = bytes | bytearray | memoryview | str | os.PathLike[str] | Image.Image


def image_bytes(image: ImageInput) -> bytes:
    """The encoded image file for an input: bytes as given, a path's contents, or a Pillow
    image saved as PNG (lossless, and the format the contract names first)."""
    if isinstance(image, Image.Image):
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        return Path(image).read_bytes()
    raise TypeError(
        f"an image must be bytes, a path or a PIL.Image.Image, not {type(image).__name__}"
    )
