"""The journal: every call the mock received, in order, for tests to inspect.

Unbounded on purpose (a test wants every call); it keeps each parsed body, images included,
so a long-lived server should ``clear()`` it now and then.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

# The request headers worth recording: the ones that change what the service does.
JOURNALED_HEADERS = ("content-type", "accept", "x-amzn-bedrock-accept", "user-agent")


@dataclass
class JournalEntry:
    """One call: what arrived and how it was answered."""

    time: float  # seconds since the epoch, when the call arrived
    request_id: str
    method: str
    path: str
    operation: str | None  # None when the path names no operation
    model_id: str | None  # as the caller sent it (an id or an ARN)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # the parsed JSON body, or its text when it is not JSON
    status: int | None = None
    outcome: str | None = None  # the error code, or the artifact's finishReason
    seed: int | None = None
    faults: list[str] = field(default_factory=list)  # names (or outcomes) of rules fired

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """Thread-safe, append-only list of :class:`JournalEntry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        """A copy of the entries so far, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
