"""Cassettes: one recorded Bedrock Runtime call per file, written to be read in a review.

A cassette is ``<key>.json`` in a directory. The key is a hash of what decides the answer
(the operation, the model id as the caller named it, the request body as canonical JSON), so
the same call finds the same file however its JSON was spaced or ordered. The file holds the
request (pretty, for the reader; replay never reads it back) and the response: status,
headers and body. A JSON body is stored as JSON, so a diff shows the fields; it is kept only
in a form that re-serializes to the exact bytes received, so replay is byte for byte.

Nothing secret is stored: request headers are an allow-list (none of them carries a
credential), and response headers lose the volatile and the credential-bearing ones.

Replay reads a cassette file once and keeps it parsed while the file stays the same (its
modification time, size and inode); it reads only regular files, of at most
:data:`MAX_CASSETTE_BYTES`, and a file it cannot replay is a :class:`CassetteError` that names
it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_contract.canonical import canonical_json

FORMAT_VERSION = 1
KEY_LENGTH = 20  # hex digits: 80 bits, no collision in any realistic cassette directory
# The largest cassette file replayed. Bedrock's largest answer, a 16-megapixel upscale as
# base64 in JSON, is about half of it; parsing a file takes up to three times its size.
MAX_CASSETTE_BYTES = 128 * 1024 * 1024
# Parsed cassettes kept for replay, by number and by the bytes of their bodies.
CACHE_ENTRIES = 64
CACHE_BYTES = 256 * 1024 * 1024

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


class CassetteError(Exception):
    """A cassette file that cannot be replayed; the message names the file and says why."""


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
    # surrogatepass: a lone surrogate (a \ud800 escape) has no UTF-8 form, but still a key.
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:KEY_LENGTH]


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
        """The cassette ``data`` holds; ValueError, KeyError or TypeError when it is not
        one (replay reports them through :class:`CassetteError`)."""
        if not isinstance(data, dict):
            raise ValueError(f"a cassette is a JSON object, not {type(data).__name__}")
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown cassette format {data.get('format')!r}")
        request, response = data["request"], data["response"]
        status = response["status"]
        if type(status) is not int or not 100 <= status <= 599:
            raise ValueError(f"status {status!r} is not an HTTP status")
        headers = [(str(n), str(v)) for n, v in response["headers"]]
        if any(c in text for pair in headers for text in pair for c in "\r\n"):
            raise ValueError("a response header holds a line break")
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
            status=status,
            response_headers=headers,
            response_body=decode_body(response["body"]),
        )


def _json_of(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    except RecursionError:
        raise ValueError("it is nested too deeply to parse") from None
    except ValueError as err:
        raise ValueError(f"it is not valid JSON ({err})") from None


# (modification time, size, inode): a file rewritten (as save does, by rename) differs.
Stamp = tuple[int, int, int]


class _ParsedCassettes:
    """Parsed cassettes by path, least recently used first out past ``CACHE_ENTRIES`` or
    ``CACHE_BYTES`` of bodies. (The mock's response cache is the same idea for generations;
    this one also checks each file's stamp.) Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Path, tuple[Stamp, Cassette, int]] = OrderedDict()
        self._bytes = 0

    def get(self, path: Path, stamp: Stamp) -> Cassette | None:
        with self._lock:
            found = self._entries.get(path)
            if found is None or found[0] != stamp:
                return None
            self._entries.move_to_end(path)
            return found[1]

    def put(self, path: Path, stamp: Stamp, cassette: Cassette) -> None:
        size = len(cassette.response_body) + len(cassette.request_body)
        if size > CACHE_BYTES:
            return
        with self._lock:
            old = self._entries.pop(path, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[path] = (stamp, cassette, size)
            self._bytes += size
            while len(self._entries) > CACHE_ENTRIES or self._bytes > CACHE_BYTES:
                _, (_, _, freed) = self._entries.popitem(last=False)
                self._bytes -= freed


class CassetteDir:
    """A directory of cassettes, one ``<key>.json`` per call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._parsed = _ParsedCassettes()
        self._reading = threading.Lock()  # one file parsed at a time: see MAX_CASSETTE_BYTES

    def file_for(self, key: str) -> Path:
        return self.path / f"{key}.json"

    def load(self, key: str) -> Cassette | None:
        """The cassette for ``key``, None if there is none; CassetteError if its file cannot
        be replayed (not a regular file, too large, unreadable or not a cassette)."""
        path = self.file_for(key)
        # Non-blocking: opening a FIFO for reading would wait for a writer.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            descriptor = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise CassetteError(f"cassette {path} cannot be read: {err.strerror}") from None
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CassetteError(f"cassette {path} is not a regular file")
            if info.st_size > MAX_CASSETTE_BYTES:
                raise CassetteError(
                    f"cassette {path} is {info.st_size} bytes, over the "
                    f"{MAX_CASSETTE_BYTES} bytes replay reads"
                )
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            cassette = self._parsed.get(path, stamp)
            if cassette is not None:
                return cassette
            with self._reading:
                cassette = self._parsed.get(path, stamp)  # parsed while this call waited
                if cassette is None:
                    cassette = self._read(path, handle)
                    self._parsed.put(path, stamp, cassette)
        return cassette

    @staticmethod
    def _read(path: Path, handle: Any) -> Cassette:
        try:
            data = handle.read(MAX_CASSETTE_BYTES + 1)
        except OSError as err:
            raise CassetteError(f"cassette {path} cannot be read: {err.strerror}") from None
        if len(data) > MAX_CASSETTE_BYTES:  # it grew since it was measured
            raise CassetteError(f"cassette {path} is over the {MAX_CASSETTE_BYTES} bytes "
                                "replay reads")
        try:
            value = _json_of(data)
            del data  # parsing a large cassette peaks at three times its size, not four
            return Cassette.from_json(value)
        except KeyError as err:
            raise CassetteError(f"cassette {path} has no {err.args[0]!r} field") from None
        except (ValueError, TypeError, AttributeError) as err:
            raise CassetteError(f"cassette {path} cannot be replayed: {err}") from None

    def save(self, cassette: Cassette) -> Path:
        """Write atomically (the server records from several threads at once)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file_for(cassette.key)
        stored = cassette.to_json()
        try:
            data = (json.dumps(stored, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a \ud800 escape) has no UTF-8 form
            data = (json.dumps(stored, indent=2) + "\n").encode("ascii")
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return target

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("*.json"))
