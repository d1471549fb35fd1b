"""Encodes AWS event-stream messages (``application/vnd.amazon.eventstream``).

botocore ships a decoder (``botocore.eventstream``) but no encoder, so the framing is written
here by hand, following the format the decoder reads:

    prelude:  total length (u32) | headers length (u32) | CRC32 of those 8 bytes (u32)
    headers:  name length (u8) | name | value type (u8, 7 = string) | length (u16) | value
    payload
    CRC32 of everything before it (u32)

All integers are big-endian. Only string header values are needed by Bedrock's events.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from zlib import crc32

_STRING = 7
_PRELUDE = struct.Struct(">II")
_U32 = struct.Struct(">I")


def _encode_headers(headers: Mapping[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers and ``payload``."""
    encoded_headers = _encode_headers(headers)
    # 12 bytes of prelude (two lengths + CRC) and 4 bytes of trailing message CRC.
    total = 12 + len(encoded_headers) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    message = prelude + _U32.pack(crc32(prelude)) + encoded_headers + payload
    return message + _U32.pack(crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """A normal event, e.g. Bedrock's ``chunk``."""
    return encode_message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"},
        payload,
    )


def exception(exception_type: str, payload: bytes) -> bytes:
    """A modelled exception event; ``exception_type`` is the union member's name."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        payload,
    )
