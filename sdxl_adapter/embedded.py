"""Generation parameters embedded in a saved image, in the text carrier each format has,
without re-encoding a pixel:

- PNG: one text chunk per parameter, keyword ``sdxl:<name>`` (:mod:`sdxl_adapter.pngtext`);
- JPEG: a comment (COM segment) ``sdxl:parameters <JSON object>``, the carrier Pillow reads
  as ``info["comment"]``. It is spliced in by hand right after the SOI marker, because
  Pillow's ``comment=`` would mean decoding and re-compressing the (lossy) image;
- WebP: an XMP chunk (Pillow's ``info["xmp"]``) whose ``rdf:Description`` holds one
  ``sdxl:<name>`` attribute per parameter. The RIFF container is edited by hand, for the
  same reason: a simple-format file becomes an extended one (a VP8X chunk is added with the
  XMP flag); an XMP packet already there (the mock's, say) keeps its descriptions and
  gains ours.

The image data chunks are copied byte for byte in every case. Every string comes back as it
went in: a value the PNG or XMP carrier cannot hold as text (a lone surrogate, which UTF-8
cannot encode; a control character, which XML cannot hold) is written as a JSON string under
a keyword (``sdxl-json:<name>``) or namespace of its own, as the JPEG comment's JSON holds
every value.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image

from bedrock_contract.xml_text import as_json_string, holds
from sdxl_adapter.pngtext import png_with_text, read_png_text

PREFIX = "sdxl:"
JSON_PREFIX = "sdxl-json:"  # a value kept as a JSON string
_COMMENT_PREFIX = b"sdxl:parameters "
_CONTINUED = b"sdxl:parameters+"
_XMP_NS = "https://sdxl-bedrock.local/ns/sdxl/1.0/"
_XMP_JSON_NS = "https://sdxl-bedrock.local/ns/sdxl-json/1.0/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_X_NS = "adobe:ns:meta/"
ElementTree.register_namespace("sdxl", _XMP_NS)
ElementTree.register_namespace("sdxljson", _XMP_JSON_NS)
ElementTree.register_namespace("rdf", _RDF_NS)
ElementTree.register_namespace("x", _X_NS)

# A COM segment's length field counts itself: at most 65535 - 2 bytes of text.
_MAX_COMMENT = 65533
_VP8X_XMP = 0x04
_VP8X_ALPHA = 0x10


def _as_text(params: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The values a text carrier holds as they are, and the others as JSON strings
    (ASCII, so any carrier holds them), by name."""
    plain, encoded = {}, {}
    for name, value in params.items():
        # XML 1.0's characters: what an XMP attribute can hold, and what a PNG text chunk
        # holds as UTF-8. Anything else goes as JSON.
        if holds(value):
            plain[name] = value
        else:
            encoded[name] = as_json_string(value)
    return plain, encoded


def _decoded(plain: Mapping[str, str], encoded: Mapping[str, str]) -> dict[str, str]:
    found = dict(plain)
    for name, text in encoded.items():
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, str):
            found[name] = value
    return found


def with_parameters(data: bytes, params: Mapping[str, str]) -> bytes:
    """``data`` (a PNG, JPEG or WebP file) with ``params`` embedded."""
    kind = _format_of(data)
    if kind == "PNG":
        plain, encoded = _as_text(params)
        return png_with_text(data, {**{PREFIX + k: v for k, v in plain.items()},
                                    **{JSON_PREFIX + k: v for k, v in encoded.items()}})
    if kind == "JPEG":
        return _jpeg_with_comment(data, _COMMENT_PREFIX + json.dumps(dict(params)).encode())
    if kind == "WEBP":
        return _webp_with_xmp(data, params)
    raise ValueError(f"cannot embed parameters in a {kind} image")


def read_embedded(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """The parameters :func:`with_parameters` embedded (other metadata left out)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    kind = _format_of(data)
    if kind == "PNG":
        texts = read_png_text(data)
        return _decoded(
            {k.removeprefix(PREFIX): v for k, v in texts.items() if k.startswith(PREFIX)},
            {k.removeprefix(JSON_PREFIX): v for k, v in texts.items()
             if k.startswith(JSON_PREFIX)})
    with Image.open(io.BytesIO(data)) as image:
        if kind == "JPEG":
            return _from_comments(getattr(image, "applist", []))
        xmp = image.info.get("xmp")
    return _from_xmp(xmp) if isinstance(xmp, bytes) else {}


def _format_of(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return str(image.format)


# --- JPEG ------------------------------------------------------------------------------


def _jpeg_with_comment(jpeg: bytes, text: bytes) -> bytes:
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG file (no SOI marker)")
    # A text too long for one segment continues in the next ones, each marked as such.
    room = _MAX_COMMENT - len(_CONTINUED)
    parts = [text[:_MAX_COMMENT]]
    parts += [_CONTINUED + text[i : i + room] for i in range(_MAX_COMMENT, len(text), room)]
    segments = b"".join(b"\xff\xfe" + struct.pack(">H", len(p) + 2) + p for p in parts)
    return jpeg[:2] + segments + jpeg[2:]


def _from_comments(applist: list[tuple[str, bytes]]) -> dict[str, str]:
    comments = [data for marker, data in applist if marker == "COM"]
    text = b""
    for comment in comments:
        if comment.startswith(_COMMENT_PREFIX):
            if text:
                break  # an older save's, after the newest (each is spliced in first)
            text = comment.removeprefix(_COMMENT_PREFIX)
        elif comment.startswith(_CONTINUED) and text:
            text += comment.removeprefix(_CONTINUED)
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


# --- WebP ------------------------------------------------------------------------------


def _chunks(webp: bytes) -> list[tuple[bytes, bytes]]:
    if webp[:4] != b"RIFF" or webp[8:12] != b"WEBP":
        raise ValueError("not a WebP file (no RIFF WEBP header)")
    found, at = [], 12
    end = min(len(webp), 8 + struct.unpack("<I", webp[4:8])[0])
    while at + 8 <= end:
        tag, size = webp[at : at + 4], struct.unpack("<I", webp[at + 4 : at + 8])[0]
        found.append((tag, webp[at + 8 : at + 8 + size]))
        at += 8 + size + (size & 1)
    return found


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")
        for tag, data in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _webp_with_xmp(webp: bytes, params: Mapping[str, str]) -> bytes:
    chunks = _chunks(webp)
    old_xmp = next((data for tag, data in chunks if tag == b"XMP "), None)
    chunks = [(tag, data) for tag, data in chunks if tag != b"XMP "]
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[0] |= _VP8X_XMP
        chunks[0] = (b"VP8X", bytes(header))
    else:
        with Image.open(io.BytesIO(webp)) as image:
            (width, height), alpha = image.size, "A" in image.getbands()
        flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0)
        size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", bytes([flags, 0, 0, 0]) + size))
    # XMP is the last chunk of an extended file.
    chunks.append((b"XMP ", _xmp_packet(old_xmp, params)))
    return _riff(chunks)


def _xmp_packet(old: bytes | None, params: Mapping[str, str]) -> bytes:
    root = None
    if old is not None:
        try:
            root = ElementTree.fromstring(old)
        except ElementTree.ParseError:
            root = None  # unreadable: replaced by ours rather than left to confuse readers
    if root is None:
        root = ElementTree.Element(f"{{{_X_NS}}}xmpmeta")
    rdf = root if root.tag == f"{{{_RDF_NS}}}RDF" else root.find(f".//{{{_RDF_NS}}}RDF")
    if rdf is None:
        rdf = ElementTree.SubElement(root, f"{{{_RDF_NS}}}RDF")
    ours = (f"{{{_XMP_NS}}}", f"{{{_XMP_JSON_NS}}}")
    for description in list(rdf):
        if any(key.startswith(ours) for key in description.attrib):
            rdf.remove(description)  # an earlier save's: ours replaces it
    plain, encoded = _as_text(params)
    ElementTree.SubElement(
        rdf, f"{{{_RDF_NS}}}Description",
        {**{f"{{{_XMP_NS}}}{k}": v for k, v in plain.items()},
         **{f"{{{_XMP_JSON_NS}}}{k}": v for k, v in encoded.items()}},
    )
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def _from_xmp(xmp: bytes) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(xmp)
    except ElementTree.ParseError:
        return {}
    attributes = [item for element in root.iter() for item in element.attrib.items()]

    def under(namespace: str) -> dict[str, str]:
        prefix = f"{{{namespace}}}"
        return {k.removeprefix(prefix): v for k, v in attributes if k.startswith(prefix)}

    return _decoded(under(_XMP_NS), under(_XMP_JSON_NS))
