"""A chunked request body (RFC 9112, 7.1) as the HTTP/1.1 door's wsgi.input.

Written here because werkzeug's decoder takes neither chunk extensions, which a recipient
must ignore (7.1.1), nor trailer fields, which a server accepts and may discard (7.1.2):
it ended such a request with a closed connection. Extensions are skipped and trailer fields
read and dropped, both within bounds, since neither is body the app's limits count:

- extensions, EXTENSIONS_LIMIT bytes in all (Node.js's figure since CVE-2024-22019: bytes
  that are not body would otherwise keep a connection busy without bound);
- the trailer section, the bounds of a request head (the standard library's parser for
  both: at most 100 fields, each line at most 65,536 bytes).

Framing it cannot read (or a body that ends early) is an OSError, as werkzeug's decoder
raised it: the app takes the client for gone, and the door closes the connection.
"""

from __future__ import annotations

import http.client
import io
import re
from typing import Any, BinaryIO

# Chunk-extension bytes a body may carry in all (kMaxChunkExtensionsSize in Node.js).
EXTENSIONS_LIMIT = 16 * 1024
# A chunk size has at most 16 hex digits (64 bits); a body is far shorter anyway.
_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_LINE_ENDS = (b"\r\n", b"\n")


class ChunkedBody(io.RawIOBase):
    """The de-chunked body read from ``rfile`` (positioned after the request head)."""

    def __init__(self, rfile: BinaryIO) -> None:
        self._rfile = rfile
        self._left = 0  # of the current chunk's data
        self._extensions = 0  # extension bytes so far
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        if self._left == 0:
            self._left = self._chunk_size()
            if self._left == 0:
                self._skip_trailer()
                self._done = True
                return 0
        data = self._rfile.read(min(len(buffer), self._left))
        if not data:
            raise OSError("the body ended inside a chunk")
        size = len(data)
        buffer[:size] = data
        self._left -= size
        if self._left == 0 and self._rfile.readline(2) not in _LINE_ENDS:
            raise OSError("a chunk's data is not followed by a line end")
        return size

    def _chunk_size(self) -> int:
        """The next chunk-size line's size, its extensions (after ";") counted and ignored."""
        room = EXTENSIONS_LIMIT - self._extensions
        line = self._rfile.readline(room + 64)  # the size, spaces, ";" and the line end
        if not line.endswith(b"\n"):
            raise OSError("a chunk-size line did not end (or its extensions are too long)")
        size, _, extensions = line.rstrip(b"\r\n").partition(b";")
        self._extensions += len(extensions)
        if self._extensions > EXTENSIONS_LIMIT:
            raise OSError(f"chunk extensions past {EXTENSIONS_LIMIT} bytes")
        size = size.strip(b" \t")  # "BWS" before ";" (RFC 9112 7.1.1)
        if not _SIZE.fullmatch(size):
            raise OSError("invalid chunk size")
        return int(size, 16)

    def _skip_trailer(self) -> None:
        try:
            http.client.parse_headers(self._rfile)  # type: ignore[arg-type]
        except http.client.HTTPException as err:
            raise OSError(f"trailer section: {err}") from None
