"""What a mistyped name was likely meant to be: one place for every "did you mean"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` nearest to ``value`` (difflib's ratio of 0.6 or more), if any."""
    found = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or nothing."""
    near = closest(value, known)
    return f" (did you mean {near!r}?)" if near else ""
