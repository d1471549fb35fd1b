"""The SDXL service logic: the seed rule and the model's response body.

Nothing here knows about HTTP; the wire layer hands in a validated request and gets back
the exact bytes the model returns. Finished response bodies are cached here, the one cache
deep enough to skip everything a repeat request would redo (seed, picture, base64, JSON).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from bedrock_contract import ValidRequest
from bedrock_contract.loader import field
from mock_bedrock.canonical import canonical_json
from mock_bedrock.placeholder import render_png

SUCCESS = "SUCCESS"
Renderer = Callable[..., bytes]
# Test suites send the same few requests over and over; a 1024x1024 answer is ~60 KB, so
# this holds about a thousand of them.
RESPONSE_CACHE_BYTES = 64 * 1024 * 1024


def seed_range() -> tuple[int, int]:
    """The seeds a request may ask for, from the request schema."""
    rule = field("seed")
    return rule["minimum"], rule["maximum"]


def effective_seed(body: dict[str, Any]) -> int:
    """The seed the model uses: the one asked for, or when that is 0 or absent ("the service
    picks"), a non-zero seed derived from the request, so the same request gets the same
    image. ``seed: 0`` and no seed are the same request."""
    asked = body.get("seed", 0)
    if asked:
        return int(asked)
    _, highest = seed_range()
    rest = {key: value for key, value in body.items() if key != "seed"}
    digest = hashlib.sha256(canonical_json(rest).encode()).digest()
    return int.from_bytes(digest[:8], "big") % highest + 1


def response_body(seed: int, png: bytes, finish_reason: str) -> bytes:
    """The model's JSON envelope around one image, byte for byte what ``json.dumps`` of
    ``{"result": "success", "artifacts": [{"seed", "base64", "finishReason"}]}`` writes.
    Assembled by hand so the ~60 KB of base64 (which never needs escaping) is not scanned
    by the JSON encoder on every answer."""
    return b"".join((
        b'{"result": "success", "artifacts": [{"seed": %d, "base64": "' % seed,
        base64.b64encode(png),
        b'", "finishReason": %b}]}' % json.dumps(finish_reason).encode(),
    ))


@dataclass(frozen=True)
class Generation:
    """What the model returned: its response body and the facts the journal wants."""

    body: bytes
    seed: int
    finish_reason: str


CacheKey = tuple[str, str, bytes]


def cache_key(model_id: str, finish_reason: str, body: dict[str, Any]) -> CacheKey:
    """What names one answer: the model, the finish reason and the SHA-256 of the canonical
    request body (a body may carry megabytes of base64 images; its digest is 32 bytes)."""
    return model_id, finish_reason, hashlib.sha256(canonical_json(body).encode()).digest()


class ResponseCache:
    """Finished generations by :func:`cache_key`, least recently used first out once their
    bodies pass ``max_bytes`` (keys are small and fixed in size, so only bodies count).
    Safe to share between server threads: two threads missing on the same key both render,
    and the second ``put`` replaces the first with equal bytes."""

    def __init__(self, max_bytes: int = RESPONSE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, Generation] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """What the cached response bodies hold, in bytes."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> Generation | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: CacheKey, generation: Generation) -> None:
        cost = len(generation.body)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = generation
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


# Shared by every engine that draws with the default renderer: the same request gets the
# same bytes from any mock in the process, so a cache outliving one mock is still right.
_shared_responses = ResponseCache()


def clear_cache() -> None:
    """Forget the shared cached responses (for measuring uncached generations)."""
    _shared_responses.clear()


class SdxlEngine:
    """Turns a valid SDXL request into the model's response body.

    ``cache`` holds finished responses; by default engines drawing with the default
    renderer share one, and an engine with its own ``render`` gets a private one.
    """

    def __init__(
        self, render: Renderer = render_png, cache: ResponseCache | None = None
    ) -> None:
        self._render = render
        if cache is None:
            cache = _shared_responses if render is render_png else ResponseCache()
        self.cache = cache

    def generate(
        self, model_id: str, request: ValidRequest, *, finish_reason: str = SUCCESS
    ) -> Generation:
        key = cache_key(model_id, finish_reason, request.body)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        seed = effective_seed(request.body)
        images: dict[str, Image.Image] = dict(request.images)
        png = self._render(
            request.body,
            seed=seed,
            model_id=model_id,
            images=images,
            blurred=finish_reason == "CONTENT_FILTERED",
        )
        generation = Generation(response_body(seed, png, finish_reason), seed, finish_reason)
        self.cache.put(key, generation)
        return generation
