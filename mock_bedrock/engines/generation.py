"""What every engine shares: the seed rule, the response envelope, and the cache of
finished answers. An engine only draws the picture (:meth:`Engine.draw`).

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
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from PIL import Image

from bedrock_contract import ModelContract, ValidRequest
from bedrock_contract.canonical import canonical_json
from mock_bedrock.placeholder import Step, render
from mock_bedrock.placeholder.png import encode_png

# Test suites send the same few requests over and over; a 1024x1024 answer is ~60 KB, so
# this holds about a thousand of them.
RESPONSE_CACHE_BYTES = 64 * 1024 * 1024
# Pictures of more pixels than this are drawn one at a time (ours). Drawing and encoding
# one takes 5 to 10 bytes a pixel (the picture, WebP's own two copies of it), so an
# outpaint at its limits (52.6 megapixels) takes 300 to 550 MiB however many arrive at
# once. Every text-to-image size, and what most Image Services return, is below it: those
# never wait.
LARGE_PICTURE_PIXELS = 4 * 1024 * 1024
_drawing_large = threading.Lock()
# Stands in for the image while the envelope is written as JSON; base64 never needs
# escaping, so splicing it in afterwards gives the bytes json.dumps would have written,
# without the encoder scanning ~60 KB of base64 on every answer.
_IMAGE_SLOT = "\x1fimage\x1f"


def effective_seed(contract: ModelContract, body: Mapping[str, Any]) -> int:
    """The seed the model uses: the one asked for, or when that is 0 or absent ("the service
    picks"), a non-zero seed derived from the request, so the same request gets the same
    image. ``seed: 0`` and no seed are the same request."""
    path = contract.seed_field
    asked = path.get(body, 0) if path else 0
    if asked:
        return int(asked)
    _, highest = contract.seed_range()
    rest = path.without(body) if path else dict(body)
    digest = hashlib.sha256(canonical_json(rest).encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(highest, 1) + 1


def response_body(
    contract: ModelContract, seeds: list[int], images: list[bytes] | None,
    finish_reason: str | None, mask: bytes | None = None,
) -> bytes:
    """The model's JSON envelope around its images (or none), one per seed, as the
    profile's envelope places seeds, images and finish reason, and the ``mask`` it used
    where one was asked for; byte for byte what ``json.dumps`` of it writes."""
    slots = [f"{_IMAGE_SLOT}{i}" for i in range(len(seeds))] if images is not None else []
    returned = base64.b64encode(mask).decode("ascii") if mask is not None else None
    envelope = contract.response.envelope_body(seeds, slots or [None] * len(seeds),
                                               finish_reason, returned)
    text = json.dumps(envelope).encode()
    for slot, image in zip(slots, images or [], strict=True):
        before, after = text.split(json.dumps(slot).encode())
        text = b"".join((before, b'"', base64.b64encode(image), b'"', after))
    return text


def image_count(contract: ModelContract, body: Mapping[str, Any]) -> int:
    """How many images a body asks for (one, unless the profile names a count field)."""
    path = contract.response.count_field
    if path is None:
        return 1
    return int(path.get(body, contract.field(path).get("default", 1)))


@dataclass(frozen=True)
class Generation:
    """What the model returned: its response body and the facts the journal wants."""

    body: bytes
    seed: int
    finish_reason: str | None


CacheKey = tuple[str, str | None, bool, bytes]


def cache_key(
    model_id: str, finish_reason: str | None, with_image: bool, body: Mapping[str, Any]
) -> CacheKey:
    """What names one answer: the model, the outcome and the SHA-256 of the canonical
    request body (a body may carry megabytes of base64 images; its digest is 32 bytes)."""
    digest = hashlib.sha256(canonical_json(body).encode()).digest()
    return model_id, finish_reason, with_image, digest


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


# Shared by every engine that draws with its default renderer: the same request gets the
# same bytes from any mock in the process, so a cache outliving one mock is still right.
shared_responses = ResponseCache()


def clear_cache() -> None:
    """Forget the shared cached responses (for measuring uncached generations)."""
    shared_responses.clear()


Steps = tuple[Step | None, Step | None]


class Engine:
    """Turns a valid request into the model's response body. Subclasses say what they do
    to the placeholder (:meth:`steps`: before its caption is drawn, and after), or draw it
    whole (:meth:`draw`).

    ``cache`` holds finished responses; engines drawing with their default renderer share
    one (``own_renderer`` False), an engine given its own renderer gets a private one.
    """

    def __init__(self, cache: ResponseCache | None = None, *, own_renderer: bool = False) -> None:
        if cache is None:
            cache = ResponseCache() if own_renderer else shared_responses
        self.cache = cache

    def steps(
        self, contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
    ) -> Steps:
        """The engine's own steps on the placeholder; none by default."""
        return None, None

    def returned_mask(
        self, contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
    ) -> Image.Image | None:
        """The mask the answer carries where the request asks for it (the profile's
        response ``mask``), in the model's own colours; none by default."""
        return None

    def draw(
        self,
        contract: ModelContract,
        body: Mapping[str, Any],
        *,
        seed: int,
        model_id: str,
        images: Mapping[str, Image.Image],
        blurred: bool,
    ) -> bytes:
        start, finish = self.steps(contract, body, images)
        return render(
            contract, body, seed=seed, model_id=model_id, images=images, blurred=blurred,
            start=start, finish=finish,
        )

    def generate(
        self,
        contract: ModelContract,
        model_id: str,
        request: ValidRequest,
        *,
        finish_reason: str | None = None,
        with_image: bool = True,
    ) -> Generation:
        """The answer to ``request``; ``finish_reason`` None means the model's success."""
        reason = contract.response.success if finish_reason is None else finish_reason
        key = cache_key(model_id, reason, with_image, request.body)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        seed = effective_seed(contract, request.body)
        # Several images (Titan's and Canvas's numberOfImages) are drawn from successive
        # seeds, so each differs and each is the same on every call.
        _, highest = contract.seed_range()
        seeds = [seed] + [(seed - 1 + i) % max(highest, 1) + 1
                          for i in range(1, image_count(contract, request.body))]
        images = mask = None
        if with_image:
            width, height = contract.output_size(request.body, request.images)
            with _drawing_large if width * height > LARGE_PICTURE_PIXELS else nullcontext():
                images = [self.draw(
                    contract, request.body, seed=each, model_id=model_id,
                    images=request.images, blurred=reason in contract.response.blurred,
                ) for each in seeds]
            drawn = (self.returned_mask(contract, request.body, request.images)
                     if contract.response.mask_asked(request.body) else None)
            mask = encode_png(drawn.convert("RGB"), {}) if drawn is not None else None
        generation = Generation(response_body(contract, seeds, images, reason, mask), seed,
                                reason)
        self.cache.put(key, generation)
        return generation
