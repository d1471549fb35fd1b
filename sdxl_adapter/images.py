"""Image inputs as callers hold them (bytes, a file path, a Pillow image) turned into bytes.

A path is read only when it names a regular file that could ever be sent: opened without
blocking and checked before a byte is read, so a FIFO, a device (``/dev/zero``) or a
directory is refused at once, and a file larger than any request body is refused by its
size, unread.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from PIL import Image

from bedrock_contract.service import max_body_length

# str is a path here, never base64: base64 only exists inside the request body.
ImageInput = bytes | bytearray | memoryview | str | os.PathLike[str] | Image.Image

# The largest request body the service takes (25,000,000 bytes): no image file larger can
# ever be sent, fitted or not.
MAX_IMAGE_FILE_BYTES = max_body_length()
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket"}


def read_image_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the image file at ``path``; OSError (its ``strerror`` says why) when it
    is not a regular file or holds more than :data:`MAX_IMAGE_FILE_BYTES`."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once rather than waiting for one.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with open(fd, "rb", closefd=True) as opened:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            kind = _KINDS.get(stat.S_IFMT(found.st_mode), "not a file")
            raise OSError(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))
        data = b""
        if found.st_size <= MAX_IMAGE_FILE_BYTES:
            # Its size, and one byte more: read(n) sets n bytes aside before reading.
            data = opened.read(found.st_size + 1)
            if len(data) > found.st_size:  # it grew since: read on, to the bound at most
                data += opened.read(MAX_IMAGE_FILE_BYTES + 1 - len(data))
        if found.st_size > MAX_IMAGE_FILE_BYTES or len(data) > MAX_IMAGE_FILE_BYTES:
            raise OSError(errno.EFBIG, f"larger than any request body the service takes "
                          f"({MAX_IMAGE_FILE_BYTES:,} bytes)", os.fspath(path))
    return data


def image_bytes(image: ImageInput) -> bytes:
    """The encoded image file for an input: bytes as given, a path's contents
    (:func:`read_image_file`), or a Pillow image saved as PNG (lossless, and the format the
    contract names first)."""
    if isinstance(image, Image.Image):
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        return read_image_file(Path(image))
    raise TypeError(
        f"an image must be bytes, a path or a PIL.Image.Image, not {type(image).__name__}"
    )
