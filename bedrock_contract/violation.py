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
