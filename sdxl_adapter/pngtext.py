"""PNG text chunks: add tEXt/iTXt chunks to a PNG, write files atomically, read chunks back.

Pillow reads the chunks (``Image.text``) and builds them (``PngInfo``, ``putchunk``); placing
them before IEND without re-encoding the image and the atomic replace are written here,
because no library in the project does either.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo, putchunk

# The IEND chunk is the same 12 bytes in every PNG: length 0, type, CRC of the type.
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def read_png_text(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """Every text chunk (tEXt, zTXt, iTXt) of a PNG file or PNG bytes, keyword -> text."""
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    with Image.open(opened) as image:
        if image.format != "PNG":
            raise ValueError(f"not a PNG image: {image.format}")
        # `.text` reads to the end of the file: chunks after the image data count too.
        text = getattr(image, "text", {})
        return {str(k): str(v) for k, v in text.items()}


def png_with_text(png: bytes, texts: Mapping[str, str]) -> bytes:
    """The PNG with ``texts`` added as text chunks just before its IEND chunk.

    Every byte of the original (its pixels and its own chunks) is kept: the image is not
    re-encoded. A later chunk wins when a keyword repeats, so readers see ours.
    """
    if not png.endswith(_IEND):
        # Trailing bytes after IEND: let Pillow rewrite the file into a well-formed one.
        with Image.open(io.BytesIO(png)) as image:
            out = io.BytesIO()
            image.save(out, format="PNG", pnginfo=_text_info(getattr(image, "text", {})))
            png = out.getvalue()
    out = io.BytesIO()
    out.write(png[: -len(_IEND)])
    for chunk_type, data, *_ in _text_info(texts).chunks:
        putchunk(out, chunk_type, data)
    out.write(_IEND)
    return out.getvalue()


def _text_info(texts: Mapping[str, str]) -> PngInfo:
    info = PngInfo()
    for key, value in texts.items():
        # Pillow builds iTXt (UTF-8) for text latin-1 cannot hold, tEXt otherwise.
        info.add_text(key, value)
    return info


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one,
    never a truncated file: write a temporary file beside it, fsync, then ``os.replace``."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as a plain open() would for the
    # target (tempfile would create it 0o600).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
