"""One JSON spelling per value, for whatever the client or the mock hashes or keys on:
cache keys, derived seeds, cassette keys, batch records, the parameters a placeholder
carries."""

from __future__ import annotations

import json


def canonical_json(value: object) -> str:
    """``value`` as JSON with sorted keys, no spaces, and non-ASCII text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
