"""Finding calls in the journal, and saying which calls came nearest when none matched.

A :class:`JournalQuery` holds the criteria (all optional, all must hold): the model (any id,
inference profile id or ARN of it), operation, outcome (an error code, a finish reason, or
``success``), HTTP status, a prompt substring, field values of the body (a top-level name or
a JSON Pointer such as ``/imageGenerationConfig/seed``) and a time window. The same criteria
come from Python keywords and from ``GET /_mock/journal``'s query string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bedrock_contract import default_catalogue
from bedrock_contract.paths import FieldPath
from bedrock_contract.suggest import did_you_mean
from mock_bedrock.service.faults import plain_model_id
from mock_bedrock.service.journal import JournalEntry

NEAR_MISSES = 3  # how many of the nearest calls a failed search shows
_MISSING = object()


class QueryError(ValueError):
    """Criteria that cannot be used (an unknown name, a value of the wrong kind)."""


@dataclass(frozen=True)
class JournalQuery:
    model_id: str | None = None
    operation: str | None = None
    outcome: str | None = None
    status: int | None = None
    prompt: str | None = None  # a substring of any of the call's prompts
    fields: Mapping[str, Any] = field(default_factory=dict)  # name or JSON Pointer -> value
    since: float | None = None  # seconds since the epoch, inclusive
    until: float | None = None

    def misses(self, entry: JournalEntry) -> list[str]:
        """What ``entry`` does not meet, one phrase a criterion (empty: it matches)."""
        missed = []
        if self.model_id is not None and (
                entry.model_id is None
                or plain_model_id(entry.model_id) != plain_model_id(self.model_id)):
            missed.append(f"model {self.model_id} (was {entry.model_id})")
        for name in ("operation", "outcome", "status"):
            wanted, was = getattr(self, name), getattr(entry, name)
            if wanted is not None and wanted != was:
                missed.append(f"{name} {wanted} (was {was})")
        if self.prompt is not None:
            prompts = prompts_of(entry)
            if not any(self.prompt in text for text in prompts):
                missed.append(f"prompt containing {self.prompt!r} (was "
                              f"{', '.join(map(repr, prompts)) or 'none'})")
        for where, wanted in self.fields.items():
            was = value_at(entry.body, where)
            if was is _MISSING:
                missed.append(f"{where} = {json.dumps(wanted)} (absent)")
            elif not _same(was, wanted):
                missed.append(f"{where} = {json.dumps(wanted)} (was {json.dumps(was)})")
        if self.since is not None and entry.time < self.since:
            missed.append(f"since {self.since} (was {entry.time})")
        if self.until is not None and entry.time > self.until:
            missed.append(f"until {self.until} (was {entry.time})")
        return missed

    def find(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        return [entry for entry in entries if not self.misses(entry)]

    def near_misses(self, entries: Iterable[JournalEntry]) -> list[tuple[JournalEntry, list[str]]]:
        """The calls that missed fewest criteria, with what each missed, nearest first."""
        scored = [(entry, missed) for entry in entries if (missed := self.misses(entry))]
        scored.sort(key=lambda pair: len(pair[1]))
        return scored[:NEAR_MISSES]

    def describe(self) -> str:
        parts = [f"{f.name} {getattr(self, f.name)!r}" for f in fields(self)
                 if f.name != "fields" and getattr(self, f.name) is not None]
        parts += [f"{where} = {json.dumps(value)}" for where, value in self.fields.items()]
        return ", ".join(parts) or "any call"


def prompts_of(entry: JournalEntry) -> list[str]:
    """The prompt texts of the call, as its model's contract places them."""
    if not isinstance(entry.body, Mapping) or entry.model_id is None:
        return []
    found = default_catalogue().find(entry.model_id)
    if found is None:
        return []
    try:
        return [prompt.text for prompt in found.contract.prompts.of(entry.body)]
    except (TypeError, KeyError, AttributeError):  # a refused body of odd shape
        return []


def value_at(body: Any, where: str) -> Any:
    """The value ``where`` (a top-level name, or a JSON Pointer, RFC 6901) names in
    ``body``, or ``_MISSING``."""
    try:
        path = FieldPath.parse(where)  # the one reading of a location, as profiles use it
    except ValueError:
        return _MISSING
    return path.get(body, _MISSING)


def near_miss_report(query: JournalQuery, entries: list[JournalEntry], found: int,
                     times: int | None) -> str:
    """The message of a failed :meth:`Journal.assert_called`."""
    expected = "at least one call" if times is None else f"{times} call(s)"
    lines = [f"expected {expected} matching {query.describe()}; found {found} "
             f"among {len(entries)} journaled"]
    for entry, missed in query.near_misses(entries):
        lines.append(f"  nearest: {entry.operation} {entry.model_id} at {entry.time:.3f} "
                     f"(request {entry.request_id}) missed {'; '.join(missed)}")
    return "\n".join(lines)


# The query string of GET /_mock/journal: each criterion by name, and ``field.<name or
# pointer>=<JSON value, or text>``.
_SCALARS = ("model_id", "operation", "outcome", "prompt")
_NUMBERS = {"status": int, "since": float, "until": float}
FIELD_PREFIX = "field."


def query_from_params(params: Iterable[tuple[str, str]]) -> JournalQuery | None:
    """The query a URL's parameters give (None: no criterion), or QueryError."""
    values: dict[str, Any] = {}
    body_fields: dict[str, Any] = {}
    for name, text in params:
        if name.startswith(FIELD_PREFIX):
            body_fields[name[len(FIELD_PREFIX):]] = _json_or_text(text)
        elif name in _SCALARS:
            values[name] = text
        elif name in _NUMBERS:
            try:
                values[name] = _NUMBERS[name](text)
            except ValueError:
                raise QueryError(f"{name} must be a number, got {text!r}") from None
        else:
            known = [*_SCALARS, *_NUMBERS, f"{FIELD_PREFIX}<name or /pointer>"]
            raise QueryError(f"unknown criterion {name!r}{did_you_mean(name, known)}; known: "
                             f"{', '.join(known)}")
    if not values and not body_fields:
        return None
    return JournalQuery(**values, fields=body_fields)


def _same(was: Any, wanted: Any) -> bool:
    """JSON's equality: true is not 1 (Python's ``True == 1`` is)."""
    return bool(was == wanted) and isinstance(was, bool) == isinstance(wanted, bool)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
