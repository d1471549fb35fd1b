"""Checks of a request's input images: what JSON Schema's ``contentEncoding: base64`` cannot
say (decodable, of an allowed format and size), per the profile's image rules.

Pillow opens only the header first, so sizes are checked before any pixel is decoded, and
its decompression-bomb guard stays on: a bomb is a violation, not a crash. What costs to
decode is bounded before decoding, by limits of our own (the service states none; each is
above what real files reach): a PNG's chunks, a JPEG's scans, the pixels decoded at full
size. A PNG's text chunks are never handed to Pillow: dozens of compressed ones would
inflate to 64 MiB. An input whose output is drawn from it at a scaled size (SD3.5 Large's
and Ultra's image to image) is held at that size, a baseline JPEG decoded at a reduced
scale; :func:`~bedrock_contract.sizes.sent_size` still gives the size it was sent at.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from bedrock_contract.sizes import SENT_SIZE, PairsRule, format_size, scaled_input, sent_size
from bedrock_contract.violation import Violation

if TYPE_CHECKING:
    from bedrock_contract.contract import ModelContract
    from bedrock_contract.request_fields import ImageRule

# A progressive JPEG is decoded once per scan, each pass over the whole picture: 100,000
# copies of one tiny scan in 2.4 MB cost a 3072x3072 picture a minute of CPU. libjpeg's
# progressive JPEGs have 10 scans (jpeg_simple_progression), a baseline one a scan per
# component or one for all; libjpeg-turbo's TurboJPEG API offers a limit for this very
# attack (TJPARAM_SCANLIMIT; its fuzzers set 500). Ours, far above any encoder's output.
MAX_JPEG_SCANS = 100
# Every chunk of a PNG is a step of a walk in Python (ours, and Pillow's own): a million
# empty ones cost seconds and hundreds of MiB. The largest PNG a body holds (25,000,000
# bytes of base64, 18.75 MB of file) written in libpng's 8 KiB IDAT chunks has about 2,300;
# ours allows chunks of under 1 KiB.
MAX_PNG_CHUNKS = 20_000
# Decoded at full size, a picture takes up to 4 bytes a pixel (Pillow keeps RGB as 4), a
# progressive JPEG's coefficients 2 more per component: above this, 64 MiB of pixels. Ours:
# every Image Service's own limit (9,437,184) is below it; a baseline JPEG (a camera's)
# whose output is scaled is decoded at a reduced scale and never meets it.
MAX_DECODED_PIXELS = 4096 * 4096


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
JPEG_START = b"\xff\xd8"
JPEG_SCAN = b"\xff\xda"  # SOS, each scan's marker


class TooManyChunks(ValueError):
    """A PNG of more chunks than :data:`MAX_PNG_CHUNKS`."""


_CHUNK_HEAD = struct.Struct(">I4s")  # a chunk's length and type


def _png_text_spans(raw: bytes) -> list[tuple[int, int]]:
    """Where a PNG's text chunks are, as (start, end) offsets; TooManyChunks past the bound.
    Walks PNG's chunk layout (length, type, data, CRC); stops where it cannot read on."""
    spans: list[tuple[int, int]] = []
    size, head, bound = len(raw), _CHUNK_HEAD.unpack_from, MAX_PNG_CHUNKS
    at = len(PNG_SIGNATURE)
    for _ in range(bound):
        if at + 12 > size:
            return spans
        length, kind = head(raw, at)
        end = at + 12 + length
        if end > size:
            return spans
        if kind in PNG_TEXT_CHUNKS:
            spans.append((at, end))
        if kind == b"IEND":
            return spans
        at = end
    if at + 12 > size:
        return spans
    raise TooManyChunks(f"is a PNG of more than {bound:,} chunks, more than the mock reads")


def without_png_text(raw: bytes) -> bytes:
    """A PNG's bytes less its text chunks (any other bytes unchanged); TooManyChunks for a
    PNG of more than :data:`MAX_PNG_CHUNKS` chunks.

    Pillow's only switch for text chunks is a module-wide limit (PngImagePlugin's
    MAX_TEXT_MEMORY), which would change every caller's Pillow; no maintained library strips
    chunks from bytes, so this walks PNG's chunk layout itself. Whatever the walk cannot
    read is passed on as it is, for Pillow to judge.
    """
    if not raw.startswith(PNG_SIGNATURE):
        return raw
    spans = _png_text_spans(raw)
    if not spans:
        return raw
    view = memoryview(raw)  # slices of it copy nothing until the join
    kept, at = [], 0
    for start, end in spans:
        kept.append(view[at:start])
        at = end
    kept.append(view[at:])
    return b"".join(kept)


def decoding_problem(raw: bytes) -> str | None:
    """Why ``raw`` would cost more to decode than the mock allows, read from its bytes
    before any decoder sees them (too many JPEG scans, too many PNG chunks), or None."""
    if raw.startswith(PNG_SIGNATURE):
        try:
            _png_text_spans(raw)
        except TooManyChunks as err:
            return str(err)
    return jpeg_scan_problem(raw)


def jpeg_scan_problem(raw: bytes) -> str | None:
    """Why a JPEG has too many scans to decode, or None (not a JPEG, or few enough).

    Counted as bytes: inside a scan's coded data a 0xFF byte is always followed by 0x00 or
    a restart marker, so FF DA there is a scan's start; only a marker segment's payload (an
    EXIF thumbnail's own scans, binary metadata) can add to the count, by a few."""
    if not raw.startswith(JPEG_START):
        return None
    scans = raw.count(JPEG_SCAN)
    if scans <= MAX_JPEG_SCANS:
        return None
    return f"is a JPEG of {scans:,} scans, more than the {MAX_JPEG_SCANS} the mock decodes"


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
    costly = decoding_problem(raw)
    if costly is not None:
        return None, [Violation(where, costly)]
    image: Image.Image
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
    sent, needed = image.size, scaled_input(contract.size, name, image.size)
    if needed is not None and _reducible(image):
        image.draft(None, needed)  # a scale of 1/2, 1/4 or 1/8 still at least ``needed``
    if image.size[0] * image.size[1] > MAX_DECODED_PIXELS:
        return None, [Violation(where, f"image has {sent[0] * sent[1]} pixels; the mock "
                                       f"decodes at most {MAX_DECODED_PIXELS}")]
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        return None, [Violation(where, f"image data is corrupt ({err})")]
    if needed is not None and image.size != needed:
        image = image.resize(needed, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if image.size != sent:
        image.info[SENT_SIZE] = sent  # held at the size its output needs
    return image, []


def _reducible(image: Image.Image) -> bool:
    """Whether Pillow can decode ``image`` at a reduced scale with little memory: a
    baseline JPEG (a progressive one holds every coefficient of the picture whatever the
    scale it is drawn at)."""
    return file_format(image) == "JPEG" and not image.info.get("progressive")


def has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def image_violations(
    contract: ModelContract, body: Mapping[str, Any]
) -> tuple[dict[str, Image.Image], list[Violation]]:
    """The decoded images of a body (by key), and every violation of its image rules."""
    images: dict[str, Image.Image] = {}
    found: list[Violation] = []
    for name, data in contract.body_images(body):
        image, problems = decode_image(name, data, contract.image_rule(name), contract)
        found += problems
        if image is not None:
            images[name] = image
    for name, image in images.items():
        other = contract.image_rule(name).same_size_as
        if other is not None and other in images and sent_size(images[other]) != sent_size(image):
            found.append(
                Violation(
                    f"#/{name}",
                    f"image size {format_size(sent_size(image))} does not match "
                    f"{other.rsplit('/', 1)[-1]} size {format_size(sent_size(images[other]))}",
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
