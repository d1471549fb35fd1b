"""A finished placeholder picture as PNG, JPEG or WebP bytes, its parameters embedded, and
read back.

The carriers are the ones each format has for text and Pillow writes: a PNG iTXt chunk, a
JPEG comment (COM segment), a WebP XMP chunk holding a one-attribute XMP packet.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from PIL import Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from bedrock_contract.placeholder_mark import COMMENT_PREFIX, PARAMETERS_KEY, XMP_NAMESPACE
from bedrock_contract.xml_text import json_for_xml
from mock_bedrock.placeholder.png import encode_png

# JPEG and WebP are lossy: fixed qualities keep the bytes the same for the same picture.
JPEG_QUALITY = 90
WEBP_QUALITY = 80


def _xmp_packet(text: str) -> bytes:
    # The parameters are JSON: a character XML cannot hold (U+FFFE, say) goes in as its
    # JSON escape, the same value, so the packet is always XML and reads back whole.
    value = quoteattr(json_for_xml(text))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:mock="{XMP_NAMESPACE}" mock:parameters={value}/></rdf:RDF></x:xmpmeta>'
    ).encode()


def _jpeg(image: Image.Image, text: str) -> bytes:
    if image.mode != "RGB":  # JPEG has no alpha: a cut-out lands on white
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = flat
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, comment=(COMMENT_PREFIX + text).encode())
    return out.getvalue()


def _webp(image: Image.Image, text: str) -> bytes:
    out = io.BytesIO()
    # method 0, the encoder's fastest: a 1-megapixel picture in ~16 ms against ~55 ms at
    # Pillow's default (4); a placeholder's looks do not need the better compression.
    image.save(out, format="WEBP", quality=WEBP_QUALITY, method=0, xmp=_xmp_packet(text))
    return out.getvalue()


def _png(image: Image.Image, text: str) -> bytes:
    if image.mode == "RGB":
        return encode_png(image, {PARAMETERS_KEY: text})
    # With alpha (a removed background): Pillow's writer, the same text chunk.
    info = PngInfo()
    info.add_itxt(PARAMETERS_KEY, text)
    out = io.BytesIO()
    image.convert("RGBA").save(out, format="PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


ENCODERS: dict[str, Callable[[Image.Image, str], bytes]] = {
    "png": _png, "jpeg": _jpeg, "jpg": _jpeg, "webp": _webp,
}


def encode(image: Image.Image, output_format: str, parameters: str) -> bytes:
    """``image`` in ``output_format`` (an ``output_format`` value), ``parameters`` in the
    format's text carrier."""
    return ENCODERS[output_format.lower()](image, parameters)


def _embedded_text(image: Image.Image) -> str | None:
    if image.format == "PNG":
        found = image.info.get(PARAMETERS_KEY)
        return found if isinstance(found, str) else None
    if image.format == "JPEG":
        comment = image.info.get("comment", b"")
        text = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else ""
        return text.removeprefix(COMMENT_PREFIX) if text.startswith(COMMENT_PREFIX) else None
    if image.format == "WEBP":
        xmp = image.info.get("xmp")
        if not isinstance(xmp, bytes):
            return None
        try:
            root = ElementTree.fromstring(xmp)
        except ElementTree.ParseError:
            return None
        for element in root.iter():
            value = element.get(f"{{{XMP_NAMESPACE}}}parameters")
            if value is not None:
                return value
    return None


def read_parameters(data: bytes) -> dict[str, Any]:
    """The parameters a placeholder image (PNG, JPEG or WebP) carries; ValueError for any
    other data."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"not an image ({err})") from err
    text = _embedded_text(image)
    if text is None:
        raise ValueError(
            f"not a mock Bedrock placeholder: the {image.format} image carries no "
            f"{PARAMETERS_KEY!r} parameters"
        )
    try:
        params: dict[str, Any] = json.loads(text)
    except ValueError as err:
        raise ValueError(f"the {PARAMETERS_KEY!r} parameters are not JSON ({err})") from err
    return params


def in_place_of(picture: bytes, placeholder: bytes) -> bytes:
    """``picture`` (a stub rule's image) as the call asked for it: resized to the
    ``placeholder``'s size, in its format, carrying its parameters marked ``"stubbed"``
    (so :func:`read_parameters` still says which call it answered)."""
    with Image.open(io.BytesIO(placeholder)) as made:
        size, output_format = made.size, str(made.format)
        text = _embedded_text(made)
    params = json.loads(text) if text else {}
    params["stubbed"] = True
    with Image.open(io.BytesIO(picture)) as given:
        mode = "RGBA" if "A" in given.getbands() and output_format != "JPEG" else "RGB"
        fitted = given.convert(mode).resize(size, Image.Resampling.LANCZOS)
    return encode(fitted, output_format, json.dumps(params))
