"""Text as XML 1.0 can hold it, for the XMP packets the mock and the client write into WebP
files (the carrier WebP has for text).

XML 1.0 holds no control character but tab, newline and carriage return, no lone surrogate,
and neither U+FFFE nor U+FFFF, not even as a character reference (its ``Char`` production);
a packet with one is not XML, and a reader drops it whole.
"""

from __future__ import annotations

import json
import re

NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def holds(text: str) -> bool:
    """Whether XML 1.0 can hold ``text`` as it is."""
    return NOT_XML.search(text) is None


def json_for_xml(text: str) -> str:
    """JSON text with each character XML cannot hold written as its ``\\u`` escape: such a
    character can only be inside a JSON string, where the escape is the same value."""
    return NOT_XML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def as_json_string(text: str) -> str:
    """``text`` as a JSON string (ASCII: every character XML cannot hold escaped), which
    ``json.loads`` turns back into ``text`` exactly, lone surrogates included."""
    return json.dumps(text)
