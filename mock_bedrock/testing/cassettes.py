"""Cassettes: one recorded Bedrock Runtime call per file, written to be read in a review.

A cassette is ``<key>.json`` in a directory. The key is a hash of what decides the answer
(the operation, the model id as the caller named it, the request body as canonical JSON), so
the same call finds the same file however its JSON was spaced or ordered. The file holds the
request (pretty, for the reader; replay never reads it back) and the response: status,
headers and body. A JSON body is stored as JSON, so a diff shows the fields; it is kept only
in a form that re-serializes to the exact bytes received, so replay is byte for byte.

Nothing secret is stored: request headers are an allow-list (none of them carries a
credential), and response headers lose the volatile and the credential-bearing ones.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_contract.canonical import canonical_json

FORMAT_VERSION = 1
KEY_LENGTH = 20  # hex digits: 80 bits, no collision in any realistic cassette directory

# Request headers that change what the service answers; the signature, the security token
# and the date are deliberately not among them.
RECORDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "x-amzn-bedrock-accept",
    "x-amzn-bedrock-trace",
    "x-amzn-bedrock-guardrailidentifier",
    "x-amzn-bedrock-guardrailversion",
    "x-amzn-bedrock-performanceconfig-latency",
)
# Response headers never stored: hop-by-hop and per-connection ones (replay recomputes
# what it needs), and anything that could carry a credential or a signature.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "date",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "server",
        "set-cookie",
        "authorization",
        "x-amz-security-token",
        "x-amz-date",
        "x-amz-content-sha256",
    }
)

# The JSON spellings a service body is tried against (separators, ensure_ascii): whichever
# re-serializes to the received bytes is recorded, so replay rebuilds them exactly. No
# library keeps JSON's original formatting, so this is written here by hand.
_JSON_SPELLINGS: tuple[tuple[tuple[str, str], bool], ...] = (
    ((",", ":"), True),
    ((", ", ": "), True),
    ((",", ":"), False),
    ((", ", ": "), False),
)


def canonical_body(body: bytes) -> Any:
    """What a request body means, for the key: its JSON value, or its bytes when it is not
    JSON (such bodies are recorded too: their refusal is an answer worth replaying)."""
    try:
        return {"json": json.loads(body)}
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep to parse
        return {"sha256": hashlib.sha256(body).hexdigest()}


def cassette_key(operation: str, model_id: str, body: bytes) -> str:
    """The canonical key of a call: ``model_id`` decoded (as the caller named it)."""
    canonical = canonical_json(
        {"operation": operation, "model_id": model_id, "body": canonical_body(body)}
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def body_summary(body: bytes, limit: int = 160) -> str:
    """A short, one-line picture of a request body for error messages: long strings (the
    base64 images) are cut, and the whole is cut at ``limit`` characters."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return f"<{len(body)} bytes, not JSON>"
    text = json.dumps(_shorten(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:20]}...({len(value)} chars)"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


def encode_body(body: bytes) -> dict[str, Any]:
    """A body as stored: JSON when it round-trips exactly, else text, else base64."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"base64": base64.b64encode(body).decode("ascii")}
    for separators, ensure_ascii in _JSON_SPELLINGS:
        if json.dumps(value, separators=separators, ensure_ascii=ensure_ascii) == text:
            return {"json": value, "separators": list(separators), "ensure_ascii": ensure_ascii}
    return {"text": text}


def decode_body(stored: dict[str, Any]) -> bytes:
    """The exact bytes :func:`encode_body` was given."""
    if "json" in stored:
        separators = tuple(stored["separators"])
        return json.dumps(
            stored["json"], separators=separators, ensure_ascii=stored["ensure_ascii"]
        ).encode("utf-8")
    if "text" in stored:
        return str(stored["text"]).encode("utf-8")
    return base64.b64decode(stored["base64"])


def request_body_for_review(body: bytes) -> dict[str, Any]:
    """The request body as the reader sees it (never replayed, so no exactness needed)."""
    try:
        return {"json": json.loads(body)}
    except (ValueError, RecursionError):
        return {"base64": base64.b64encode(body).decode("ascii")}


def recordable_request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() in RECORDED_REQUEST_HEADERS}


def recordable_response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n.lower() not in DROPPED_RESPONSE_HEADERS]


@dataclass(frozen=True)
class Cassette:
    """One recorded call."""

    key: str
    operation: str
    model_id: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "key": self.key,
            "request": {
                "operation": self.operation,
                "model_id": self.model_id,
                "headers": self.request_headers,
                "body": request_body_for_review(self.request_body),
            },
            "response": {
                "status": self.status,
                "headers": [list(pair) for pair in self.response_headers],
                "body": encode_body(self.response_body),
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cassette:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown cassette format {data.get('format')!r}")
        request, response = data["request"], data["response"]
        stored_request = request["body"]
        # The request body is stored for the reader; read back, it is its meaning (the same
        # key), not necessarily the bytes the caller sent.
        request_body = (
            json.dumps(stored_request["json"]).encode("utf-8")
            if "json" in stored_request
            else base64.b64decode(stored_request["base64"])
        )
        return cls(
            key=data["key"],
            operation=request["operation"],
            model_id=request["model_id"],
            request_headers=dict(request["headers"]),
            request_body=request_body,
            status=int(response["status"]),
            response_headers=[(str(n), str(v)) for n, v in response["headers"]],
            response_body=decode_body(response["body"]),
        )


class CassetteDir:
    """A directory of cassettes, one ``<key>.json`` per call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def file_for(self, key: str) -> Path:
        return self.path / f"{key}.json"

    def load(self, key: str) -> Cassette | None:
        try:
            text = self.file_for(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Cassette.from_json(json.loads(text))

    def save(self, cassette: Cassette) -> Path:
        """Write atomically (the server records from several threads at once)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file_for(cassette.key)
        text = json.dumps(cassette.to_json(), indent=2, ensure_ascii=False) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return target

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("*.json"))
