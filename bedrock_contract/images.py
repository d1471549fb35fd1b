"""Checks of a request's input images: what JSON Schema's ``contentEncoding: base64`` cannot
say (decodable, of an allowed format and size), per the profile's image rules.

Pillow opens only the header first, so sizes are checked before any pixel is decoded, and
its decompression-bomb guard stays on: a bomb is a violation, not a crash. A PNG's text
chunks are never handed to Pillow: dozens of compressed ones would inflate to 64 MiB.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from bedrock_contract.sizes import PairsRule, format_size
from bedrock_contract.violation import Violation

if TYPE_CHECKING:
    from bedrock_contract.contract import ModelContract
    from bedrock_contract.request_fields import ImageRule


def _size_problem(image: Image.Image, rule: ImageRule, contract: ModelContract) -> str | None:
    width, height = image.size
    pixels = width * height
    pairs = contract.size if isinstance(contract.size, PairsRule) else None
    if rule.allowed_sizes and pairs is not None and image.size not in pairs.allowed:
        return (
            f"image size {format_size(image.size)} (width x height) is not one of the "
            f"allowed sizes: {', '.join(pairs.choices())}"
        )
    if rule.min_side is not None and min(width, height) < rule.min_side:
        return f"image size {format_size(image.size)}: each side must be at least " \
            f"{rule.min_side} px"
    if rule.max_side is not None and max(width, height) > rule.max_side:
        return f"image size {format_size(image.size)}: each side must be at most " \
            f"{rule.max_side} px"
    if rule.min_pixels is not None and pixels < rule.min_pixels:
        return f"image has {pixels} pixels; at least {rule.min_pixels} are needed"
    if rule.max_pixels is not None and pixels > rule.max_pixels:
        return f"image has {pixels} pixels; at most {rule.max_pixels} are allowed"
    aspect = width / height
    if (rule.min_aspect is not None and aspect < rule.min_aspect) or (
        rule.max_aspect is not None and aspect > rule.max_aspect
    ):
        return (
            f"image aspect ratio {format_size(image.size)} is outside "
            f"{rule.min_aspect}:1 to {rule.max_aspect}:1 (width / height)"
        )
    return None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Text chunks say nothing about the pixels, and Pillow inflates compressed ones (up to 1 MiB
# each, 64 MiB an image) as it opens the file.
PNG_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


def without_png_text(raw: bytes) -> bytes:
    """A PNG's bytes less its text chunks (any other bytes unchanged).

    Pillow's only switch for text chunks is a module-wide limit (PngImagePlugin's
    MAX_TEXT_MEMORY), which would change every caller's Pillow; no maintained library strips
    chunks from bytes, so this walks PNG's chunk layout (length, type, data, CRC) itself.
    Whatever the walk cannot read is passed on as it is, for Pillow to judge.
    """
    if not raw.startswith(PNG_SIGNATURE):
        return raw
    view = memoryview(raw)  # slices of it copy nothing until the join
    kept: list[bytes | memoryview] = [PNG_SIGNATURE]
    at = len(PNG_SIGNATURE)
    stripped = False
    while at + 12 <= len(raw):
        length = int.from_bytes(raw[at : at + 4], "big")
        kind = raw[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(raw):
            break
        if kind in PNG_TEXT_CHUNKS:
            stripped = True
        else:
            kept.append(view[at:end])
        at = end
        if kind == b"IEND":
            break
    if not stripped:
        return raw
    kept.append(view[at:])
    return b"".join(kept)


# Pillow opens a JPEG that carries an MPF extension (what most phones write) as "MPO"; the
# file is a JPEG, whose first image is the picture, and a JPEG reader reads it as one.
_FILE_FORMATS = {"MPO": "JPEG"}


def file_format(image: Image.Image) -> str:
    """The format of the file ``image`` was opened from, as a model's rule names formats."""
    found = image.format or ""
    return _FILE_FORMATS.get(found, found)


def decode_image(
    name: str, data: str, rule: ImageRule, contract: ModelContract
) -> tuple[Image.Image | None, list[Violation]]:
    where = f"#/{name}"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None, [Violation(where, "is not valid base64")]
    formats = rule.formats_text
    try:
        image = Image.open(io.BytesIO(without_png_text(raw)))
    except Image.DecompressionBombError as err:
        return None, [Violation(where, f"image is too large to decode ({err})")]
    except (UnidentifiedImageError, OSError):
        return None, [Violation(where, f"is not a {formats} image")]
    if file_format(image) not in rule.formats:
        return None, [Violation(where, f"is a {image.format} image; expected {formats}")]
    problem = _size_problem(image, rule, contract)
    if problem is not None:
        return None, [Violation(where, problem)]
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        return None, [Violation(where, f"image data is corrupt ({err})")]
    return image, []


def has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def image_violations(
    contract: ModelContract, body: Mapping[str, Any]
) -> tuple[dict[str, Image.Image], list[Violation]]:
    """The decoded images of a body, and every violation of its image rules."""
    images: dict[str, Image.Image] = {}
    found: list[Violation] = []
    for name in contract.image_fields:
        if isinstance(body.get(name), str):
            image, problems = decode_image(name, body[name], contract.image_rule(name), contract)
            found += problems
            if image is not None:
                images[name] = image
    for name, image in images.items():
        other = contract.image_rule(name).same_size_as
        if other is not None and other in images and images[other].size != image.size:
            found.append(
                Violation(
                    f"#/{name}",
                    f"image size {format_size(image.size)} does not match {other} size "
                    f"{format_size(images[other].size)}",
                )
            )
    alpha = contract.alpha_rule
    needs_alpha = alpha is not None and alpha.image in images and alpha.applies(body)
    if alpha is not None and needs_alpha and not has_alpha(images[alpha.image]):
        when = ", ".join(f"{k} {v}" for k, v in alpha.when.items())
        found.append(
            Violation(f"#/{alpha.image}", f"has no alpha channel, which {when} reads the mask from")
        )
    return images, found
