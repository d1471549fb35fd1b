"""One JSON spelling per value, for whatever the client or the mock hashes or keys on:
cache keys, derived seeds, cassette keys, batch records, the parameters a placeholder
carries."""

from __future__ import annotations

import json
import re

# JSON can carry a lone surrogate ("\ud800"), and Python keeps it in the string, but UTF-8
# cannot encode it: written back as its escape, the text stays JSON for the same value.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# One encoder for every call: json.dumps with these options makes a new one each time
# (~20 us, on every call the mock answers).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: object) -> str:
    """``value`` as JSON with sorted keys, no spaces, and non-ASCII text kept as is (a lone
    surrogate excepted), so that it always encodes as UTF-8."""
    text = _ENCODER.encode(value)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
