"""The ``Date`` header every answer of either door carries, as an HTTP server sends it
(RFC 9110 section 6.6.1, in IMF-fixdate form: ``Sun, 06 Nov 1994 08:49:37 GMT``). AWS sends
one on every response, errors and streams included, and botocore corrects its clock skew
from it; an app's own ``Date`` (a replayed one) is kept."""

from __future__ import annotations

import time
from email.utils import formatdate

NAME = "Date"

# The text changes once a second: made once per second, not per answer.
_last: tuple[int, str] = (0, "")


def http_date() -> str:
    """Now, as a ``Date`` header value."""
    global _last
    second = int(time.time())
    last = _last
    if last[0] != second:
        last = (second, formatdate(second, usegmt=True))
        _last = last  # one assignment: a thread reads the old pair or the new, never half
    return last[1]
