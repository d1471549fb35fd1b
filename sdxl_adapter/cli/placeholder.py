"""Whether an image came from the mock: its placeholders carry their parameters under one
key, in the format's text carrier (a PNG text chunk, a JPEG comment ``<key>:<JSON>``).

The mock's own reader is not imported: the command must not need the mock to run. The mark
itself is the contract's (:mod:`bedrock_contract.placeholder_mark`).
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from bedrock_contract.placeholder_mark import COMMENT_PREFIX, PARAMETERS_KEY, XMP_NAMESPACE
from sdxl_adapter.pngtext import read_png_text


def is_placeholder(data: bytes) -> bool:
    """True when ``data`` is an image carrying the mock's embedded parameters."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            comment = image.info.get("comment", b"")
            xmp = image.info.get("xmp", b"")
    except (UnidentifiedImageError, OSError):
        return False
    if kind == "PNG":
        return PARAMETERS_KEY in read_png_text(data)
    if kind == "JPEG" and isinstance(comment, bytes):
        return comment.startswith(COMMENT_PREFIX.encode())
    if kind == "WEBP" and isinstance(xmp, bytes):
        return XMP_NAMESPACE.encode() in xmp
    return False
