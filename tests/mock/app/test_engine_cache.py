"""The engine's response cache: repeat requests skip the render, the answer is the same
bytes, the cache keys on everything that shapes the answer and stays within its bytes."""

from __future__ import annotations

import base64
import io
import json
import random
import threading
from typing import Any

from PIL import Image
from werkzeug.test import Client

from bedrock_contract.canonical import canonical_json
from mock_bedrock.engines.generation import Generation, ResponseCache, cache_key, response_body
from mock_bedrock.engines.sdxl import SdxlEngine, render_png
from mock_bedrock.service.app import MockBedrock
from tests.support import sdxl_contract as sdxl
from tests.support.sdxl_contract import check_request
from tests.support.wsgi_app import SDXL, invoke, sdxl_body


class CountingRender:
    """The real renderer, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> bytes:
        with self._lock:
            self.calls += 1
        return render_png(*args, **kwargs)


def valid(**fields: Any) -> Any:
    return check_request(sdxl_body(**fields))


def test_a_repeat_request_is_answered_without_rendering_again() -> None:
    render = CountingRender()
    engine = SdxlEngine(render=render)
    first = engine.generate(sdxl.SDXL, SDXL, valid(seed=3))
    again = engine.generate(sdxl.SDXL, SDXL, valid(seed=3))
    assert render.calls == 1
    assert again == first


def test_the_same_body_in_another_key_order_is_the_same_request() -> None:
    render = CountingRender()
    engine = SdxlEngine(render=render)
    body = sdxl_body(seed=3, cfg_scale=9)
    engine.generate(sdxl.SDXL, SDXL, check_request(body))
    engine.generate(sdxl.SDXL, SDXL, check_request(dict(reversed(list(body.items())))))
    assert render.calls == 1


def test_body_model_and_finish_reason_each_make_a_different_answer() -> None:
    render = CountingRender()
    engine = SdxlEngine(render=render)
    plain = engine.generate(sdxl.SDXL, SDXL, valid(seed=3))
    reseeded = engine.generate(sdxl.SDXL, SDXL, valid(seed=4))
    filtered = engine.generate(sdxl.SDXL, SDXL, valid(seed=3), finish_reason="CONTENT_FILTERED")
    assert render.calls == 3
    assert len({plain.body, reseeded.body, filtered.body}) == 3
    assert json.loads(filtered.body)["artifacts"][0]["finishReason"] == "CONTENT_FILTERED"


def test_the_envelope_is_what_json_dumps_writes() -> None:
    png = bytes(range(256)) * 5
    for reason in ("SUCCESS", "ERROR", "CONTENT_FILTERED"):
        expected = json.dumps({"result": "success", "artifacts": [{
            "seed": 4294967295, "base64": base64.b64encode(png).decode(), "finishReason": reason,
        }]}).encode()
        assert response_body(sdxl.SDXL, [4294967295], [png], reason) == expected


def generation(size: int) -> Generation:
    return Generation(b"x" * size, 1, "SUCCESS")


def test_the_cache_stays_within_its_bytes_dropping_the_least_recently_used() -> None:
    cache = ResponseCache(max_bytes=3_000)
    keys = [(SDXL, "SUCCESS", f"{n}".encode()) for n in range(4)]
    cache.put(keys[0], generation(900))
    cache.put(keys[1], generation(900))
    cache.put(keys[2], generation(900))
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[3], generation(900))
    assert cache.size_bytes <= 3_000
    assert cache.get(keys[1]) is None
    assert all(cache.get(key) is not None for key in (keys[0], keys[2], keys[3]))
    cache.put(keys[0], generation(900))  # replacing an entry does not count it twice
    assert cache.size_bytes == 3 * 900


def test_an_answer_larger_than_the_whole_cache_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=100)
    cache.put((SDXL, "SUCCESS", b"k"), generation(200))
    assert len(cache) == 0 and cache.size_bytes == 0


def test_threads_asking_at_once_all_get_the_same_bytes() -> None:
    engine = SdxlEngine(render=CountingRender())
    bodies: list[bytes] = []
    lock = threading.Lock()

    def ask() -> None:
        for seed in (11, 12, 11, 12):
            body = engine.generate(sdxl.SDXL, SDXL, valid(seed=seed)).body
            with lock:
                bodies.append(body)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 24
    assert len(set(bodies)) == 2
    assert len(engine.cache) == 2


def test_engines_with_the_default_renderer_share_one_cache_and_others_keep_their_own() -> None:
    # A later mock (a new test's fixture) answers a request an earlier one already rendered.
    assert SdxlEngine().cache is SdxlEngine().cache
    custom = SdxlEngine(render=CountingRender())
    assert custom.cache is not SdxlEngine().cache
    body = sdxl_body(seed=21)
    answer = invoke(Client(MockBedrock()), body)
    assert invoke(Client(MockBedrock()), body).data == answer.data


def noise_png_b64(size: tuple[int, int], seed: int) -> str:
    """A PNG that does not compress: base64 of about four bytes per pixel."""
    image = Image.frombytes("RGB", size, random.Random(seed).randbytes(3 * size[0] * size[1]))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=0)
    return base64.b64encode(out.getvalue()).decode()


def test_a_request_with_megabytes_of_image_is_keyed_by_a_digest_and_only_answers_count() -> None:
    renders: list[int] = []
    engine = SdxlEngine(render=lambda *args, seed, **kwargs: renders.append(seed) or b"tiny")
    request = valid(init_image=noise_png_b64((640, 1536), seed=5), seed=3)
    assert len(canonical_json(request.body)) > 3_000_000
    answer = engine.generate(sdxl.SDXL, SDXL, request)
    key = cache_key(SDXL, "SUCCESS", True, request.body)
    assert engine.cache.get(key) is answer
    assert len(key[-1]) == 32  # the body's SHA-256, not the body
    assert engine.cache.size_bytes == len(answer.body)
    other = valid(init_image=noise_png_b64((640, 1536), seed=6), seed=3)
    assert cache_key(SDXL, "SUCCESS", True, other.body) != key
    engine.generate(sdxl.SDXL, SDXL, other)
    engine.generate(sdxl.SDXL, SDXL, request)
    assert len(renders) == 2 and len(engine.cache) == 2
