"""The journal: the calls the mock received, in order, for tests to inspect.

Bounded, so that a server left running all day levels off: it keeps the newest calls, at
most ``max_entries`` of them holding at most about ``max_bytes`` (the memory their bodies
take, estimated), drops the oldest past either bound and counts what it dropped.

A body is kept parsed when it passed validation or is a small refused one. Any other body (a
large refused one, one nested deeper than JSON output can be trusted with, or one larger
than the whole budget) is kept as a summary instead: its length, SHA-256 and first
characters. A parsed refused body can cost twenty times its bytes (``[[],[],...]``), which is
why only small ones are parsed.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import threading
from collections import deque
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from bedrock_contract.input_check import header_members
from bedrock_contract.service import OPERATIONS, operation_model


def _journaled_headers() -> tuple[str, ...]:
    """The request headers worth recording: the ones that change what the service does (the
    operations' header members in botocore's model, but the sensitive ones, whose values
    are not for a log) and who sent the call."""
    names: dict[str, None] = {}
    for operation in OPERATIONS:
        members = operation_model(operation).input_shape.members
        for member, header in header_members(operation).items():
            if not members[member].metadata.get("sensitive"):
                names[header.lower()] = None
    return (*names, "user-agent")


JOURNALED_HEADERS = _journaled_headers()

if TYPE_CHECKING:
    from mock_bedrock.service.journal_query import JournalQuery

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# A refused body is parsed for the journal only up to this size; a larger one is summarized.
MAX_PARSED_REFUSED_BYTES = 64 * 1024
# Deeper bodies are summarized: Bedrock's bodies are 4 levels deep, and a deep one would
# make the JSON listing (and any reader's parser) recurse that deep.
MAX_DEPTH = 32
SUMMARY_HEAD_CHARS = 200
# What an entry holds besides its body (the object, its headers, ids and path), measured
# with tracemalloc on typical calls (about 1.7 KiB an entry in all).
ENTRY_OVERHEAD = 1024


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
    body: Any = None  # the parsed JSON body, or its text when it is not JSON (see below)
    status: int | None = None
    outcome: str | None = None  # the error code, or the artifact's finishReason
    seed: int | None = None
    faults: list[str] = field(default_factory=list)  # names (or outcomes) of rules fired
    # A call answered for a model past its end of life (the mock's date allows it): its id,
    # end-of-life date and replacement (:class:`bedrock_contract.retired.RetiredCall`).
    end_of_life: dict[str, Any] | None = None
    # When the body is not kept (``body`` is None): its length in bytes, SHA-256, first
    # characters and why it was not kept.
    body_summary: dict[str, Any] | None = None
    # The bytes as read, for :meth:`Journal.record` to keep or summarize; never kept.
    raw_body: bytes | None = field(default=None, repr=False, compare=False)
    # The journal's :attr:`Journal.epoch` when the call arrived (None: kept whenever
    # recorded): a call that was in flight when the journal was cleared is not recorded.
    epoch: int | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON data: always encodable with ``allow_nan=False`` (a refused
        body's NaN or Infinity becomes the string ``"NaN"``, ``"Infinity"``...)."""
        return {
            f.name: _json_safe(getattr(self, f.name), 0)
            for f in fields(self)
            if f.name not in ("raw_body", "epoch")
        }


def _json_safe(value: Any, depth: int) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # NaN, Infinity, -Infinity: as Python's json spells them
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return f"<nested deeper than {MAX_DEPTH} levels>"  # only in entries made by hand
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    return value


def summarize(raw: bytes, why: str) -> dict[str, Any]:
    """A bounded picture of a body that is not kept."""
    head = raw[: SUMMARY_HEAD_CHARS * 4].decode("utf-8", errors="replace")
    return {
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "head": head[:SUMMARY_HEAD_CHARS],
        "why": why,
    }


def footprint(value: Any, limit: int) -> int | None:
    """The memory a parsed body holds, estimated (``sys.getsizeof`` of every value); None
    when it is nested deeper than :data:`MAX_DEPTH`. Counting stops once past ``limit``."""
    total = sys.getsizeof(value)
    level: list[Any] = [value]  # breadth first: the containers at one level of nesting
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                below += node.keys()
                below += node.values()
            elif isinstance(node, list):
                below += node
        total += sum(map(sys.getsizeof, below))
        if total > limit:
            return total
        level = [node for node in below if isinstance(node, (dict, list))]
        if not level:
            return total
    return None


def _parse_refused(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw.decode("utf-8", errors="replace")


def _kept(entry: JournalEntry, raw: bytes | None, budget: int) -> int:
    """Settles what ``entry`` keeps of its body; returns what it costs, estimated."""
    body = entry.body
    if isinstance(body, bytes):  # an entry made by hand with the raw body
        raw, body = body, None
    if body is None and raw is not None:  # refused before the body was parsed for good
        if len(raw) > MAX_PARSED_REFUSED_BYTES:
            return _summarized(entry, raw, f"a refused body over {MAX_PARSED_REFUSED_BYTES} "
                               "bytes is not parsed for the journal")
        body = _parse_refused(raw)
    cost = footprint(body, budget)
    if raw is not None and cost is None:
        return _summarized(entry, raw, f"nested deeper than {MAX_DEPTH} levels")
    if raw is not None and cost is not None and cost > budget:
        return _summarized(entry, raw, f"over the journal's byte budget ({budget} bytes)")
    entry.body = body
    return ENTRY_OVERHEAD + (cost or 0)


def _summarized(entry: JournalEntry, raw: bytes, why: str) -> int:
    entry.body = None
    entry.body_summary = summarize(raw, why)
    return ENTRY_OVERHEAD + SUMMARY_HEAD_CHARS * 4


def _check_bound(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ValueError(f"{name} must be a positive integer or None (no bound), got {value!r}")


class Journal:
    """Thread-safe, bounded, oldest-first record of :class:`JournalEntry`. ``max_entries``
    and ``max_bytes`` (None: no bound) bound what it keeps; ``dropped`` counts the entries
    it let go since it was made or last cleared."""

    def __init__(
        self,
        max_entries: int | None = DEFAULT_MAX_ENTRIES,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
    ) -> None:
        _check_bound("max_entries", max_entries)
        _check_bound("max_bytes", max_bytes)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: deque[tuple[JournalEntry, int]] = deque()
        self._bytes = 0
        self._dropped = 0
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """How many times the journal was cleared: a call records it on arrival (see
        :attr:`JournalEntry.epoch`), so that one still in flight when a test's journal is
        cleared does not land in the next test's."""
        with self._lock:
            return self._epoch

    def record(self, entry: JournalEntry) -> None:
        raw, entry.raw_body = entry.raw_body, None
        if entry.epoch is not None and entry.epoch != self.epoch:
            return  # it arrived before the journal was last cleared
        # Parsing and sizing happen in the caller's thread, outside the lock.
        cost = _kept(entry, raw, self.max_bytes or sys.maxsize)
        with self._lock:
            if entry.epoch is not None and entry.epoch != self._epoch:
                return  # cleared while it was being sized
            self._entries.append((entry, cost))
            self._bytes += cost
            while len(self._entries) > 1 and self._over():
                _, freed = self._entries.popleft()
                self._bytes -= freed
                self._dropped += 1

    def _over(self) -> bool:
        return (self.max_entries is not None and len(self._entries) > self.max_entries) or (
            self.max_bytes is not None and self._bytes > self.max_bytes
        )

    def entries(self) -> list[JournalEntry]:
        """A copy of the entries kept, oldest first."""
        with self._lock:
            return [entry for entry, _ in self._entries]

    def find(self, query: JournalQuery | None = None, /, **criteria: Any) -> list[JournalEntry]:
        """The entries kept that match a :class:`~.journal_query.JournalQuery` or its
        criteria as keywords (``model_id``, ``operation``, ``outcome``, ``status``,
        ``prompt``, ``fields={"seed": 7}``, ``since``, ``until``), oldest first."""
        return _query(query, criteria).find(self.entries())

    def assert_called(self, query: JournalQuery | None = None, /, *, times: int | None = None,
                      **criteria: Any) -> list[JournalEntry]:
        """The matching entries; AssertionError unless there are ``times`` of them (None: at
        least one), its message showing the nearest calls and what each missed."""
        from mock_bedrock.service.journal_query import near_miss_report

        chosen = _query(query, criteria)
        entries = self.entries()
        found = chosen.find(entries)
        if (times is None and not found) or (times is not None and len(found) != times):
            raise AssertionError(near_miss_report(chosen, entries, len(found), times))
        return found

    @property
    def dropped(self) -> int:
        """How many entries were let go (the oldest first) to stay within the bounds."""
        with self._lock:
            return self._dropped

    @property
    def size_bytes(self) -> int:
        """What the kept entries hold, estimated."""
        with self._lock:
            return self._bytes

    def listing(self) -> dict[str, Any]:
        """What ``GET /_mock/journal`` answers: the entries as JSON data, and how many were
        dropped."""
        with self._lock:
            entries, dropped = [entry for entry, _ in self._entries], self._dropped
        return {"entries": [entry.to_dict() for entry in entries], "dropped": dropped}

    def clear(self) -> None:
        """Forget every entry, and every call still in flight (see :attr:`epoch`)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._dropped = 0
            self._epoch += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _query(query: JournalQuery | None, criteria: dict[str, Any]) -> JournalQuery:
    from mock_bedrock.service.journal_query import JournalQuery

    if query is not None and criteria:
        raise TypeError("give a JournalQuery or criteria as keywords, not both")
    return query if query is not None else JournalQuery(**criteria)
