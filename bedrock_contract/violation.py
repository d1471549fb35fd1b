"""One broken rule of a contract, as the service reports it."""

from __future__ import annotations

from typing import NamedTuple


class Violation(NamedTuple):
    """Where (a JSON pointer starting with ``#``) and what; ``str()`` is the service's
    ``#/pointer: text``."""

    pointer: str
    text: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.text}"


def pointer_token(key: str) -> str:
    """A body key as one JSON pointer token (RFC 6901: ``~`` as ``~0``, then ``/`` as ``~1``),
    as the service's pointers write keys."""
    return key.replace("~", "~0").replace("/", "~1")
