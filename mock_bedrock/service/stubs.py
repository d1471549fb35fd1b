"""Stubs: fault rules whose outcome is a picture of the user's (``image``), answered in
place of the placeholder, so that code downstream of the call (thumbnails, moderation,
storage) sees a real image. As the call asked for it (``image_as: "requested"``: its size
and output format, the placeholder's parameters marked ``"stubbed"``) or byte for byte as
given (``"given"``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from bedrock_contract.images import MAX_DECODED_PIXELS
from bedrock_contract.response_shape import ResponseShape
from mock_bedrock.placeholder.formats import in_place_of

IMAGE_AS = ("requested", "given")
STUB_FORMATS = ("PNG", "JPEG", "WEBP")  # what Bedrock's image models answer with


def stub_picture(encoded: str) -> bytes:
    """The picture a rule's ``image`` (base64) holds; ValueError unless it is a PNG, JPEG
    or WebP image within the decoding bound."""
    try:
        picture = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("'image' must be base64 (a PNG, JPEG or WebP file)") from None
    try:
        with Image.open(io.BytesIO(picture)) as image:
            found, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError("'image' is not a PNG, JPEG or WebP image") from None
    if found not in STUB_FORMATS:
        raise ValueError(f"'image' is a {found} image; a stub answers with "
                         f"{', '.join(STUB_FORMATS)}")
    if width * height > MAX_DECODED_PIXELS:
        raise ValueError(f"'image' is {width}x{height}; at most {MAX_DECODED_PIXELS} pixels")
    return picture


def image_file_as_base64(path: Path) -> str:
    """A rule file's ``image_file`` (relative to the rule file) as an ``image`` value."""
    try:
        return base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError as err:
        raise ValueError(f"'image_file' {str(path)!r} cannot be read: {err.strerror}") from None


def picture_summary(picture: bytes) -> str:
    with Image.open(io.BytesIO(picture)) as image:
        kind, (width, height) = image.format, image.size
    return (f"<{kind} {width}x{height}, {len(picture)} bytes, "
            f"sha256 {hashlib.sha256(picture).hexdigest()[:16]}>")


def answered_with(body: bytes, shape: ResponseShape, picture: bytes, as_given: bool) -> bytes:
    """The response ``body`` with each of its images replaced by ``picture``."""
    data = json.loads(body)
    replaced = {}
    for artifact in shape.artifacts(data):
        if artifact.image is None:
            continue
        new = picture if as_given else in_place_of(picture, base64.b64decode(artifact.image))
        replaced[artifact.image] = base64.b64encode(new).decode("ascii")
    return json.dumps(_swapped(data, replaced)).encode()


def _swapped(value: Any, replaced: dict[str, str]) -> Any:
    # By value, wherever the envelope keeps its images: no second map of the envelopes.
    if isinstance(value, str):
        return replaced.get(value, value)
    if isinstance(value, list):
        return [_swapped(v, replaced) for v in value]
    if isinstance(value, dict):
        return {k: _swapped(v, replaced) for k, v in value.items()}
    return value
