"""Attacks on the journal (issue 12, finding 3): refused bodies whose parsed tree is many
times their size, and a long run of normal calls from a server left running all day."""

from __future__ import annotations

import http.client
import json

from bench.attacks.calls import INVOKE_PATH, JSON, call, invoke
from bench.attacks.harness import Attack, Siege
from bench.bodies import SDXL, encode, text_to_image
from bench.soak import rss_kib

HUGE_ITEMS = 8_000_000  # "[]," is 3 bytes: 24 MB, under Bedrock's 25,000,000-byte limit
SMALL_ITEMS = 20_000  # 60 KB


def _rss_mib(siege: Siege) -> int:
    return round(rss_kib(siege.server.pid) / 1024)


def array_of_arrays(items: int) -> bytes:
    """``[[],[],...]``: JSON, but not an object, so refused; parsed, one list per item."""
    return b"[" + b"[]," * (items - 1) + b"[]]"


def refused_bodies(siege: Siege, count: int = 5) -> None:
    """``count`` refused 24 MB bodies, in turn ``[[],[],...]`` (JSON, not an object) and
    ``[],[],...`` (not JSON), one after the other; RSS after each, then after a pause
    (does it level off?)."""
    bodies = (array_of_arrays(HUGE_ITEMS), b"[]," * HUGE_ITEMS)
    after: list[int] = []
    answers: list[str] = []
    for number in range(count):
        if not siege.running():
            break
        answer = invoke(siege.address, bodies[number % 2], timeout=siege.remaining())
        answers.append(answer.describe())
        after.append(_rss_mib(siege))
    siege.note("answers", answers)
    siege.note("RSS MiB after each", after)
    if siege.hold(2.0):
        siege.note("RSS MiB 2 s later", _rss_mib(siege))


def long_run(siege: Siege, calls: int = 20_000) -> None:
    """Up to ``calls`` calls on one keep-alive connection, as a test suite makes them: the
    same small valid body, and every tenth a refused 60 KB ``[[],...]``; RSS at the start,
    every 5,000 calls and at the end, and what the journal says it holds."""
    valid = encode(text_to_image(SDXL, seed=5, prompt="a long day"))
    refused = array_of_arrays(SMALL_ITEMS)
    connection = http.client.HTTPConnection(*siege.address, timeout=10)
    rss = {"start": _rss_mib(siege)}
    made, broken = 0, 0
    try:
        while made < calls and siege.running():
            body = refused if made % 10 == 9 else valid
            try:
                connection.request("POST", INVOKE_PATH, body=body, headers=JSON)
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                broken += 1
                connection.close()  # reconnects on the next request
            made += 1
            if made % 5_000 == 0:
                rss[f"{made:,}"] = _rss_mib(siege)
    finally:
        connection.close()
    rss["end"] = _rss_mib(siege)
    siege.note("calls made", made)
    if broken:
        siege.note("calls with no answer", broken)
    siege.note("RSS MiB", rss)
    health = call(siege.address, "GET", "/_mock/health", timeout=5)
    if health.status == 200:
        siege.note("journal entries (health)", json.loads(health.body).get("journal"))


ATTACKS = (
    Attack("journal-refused-bodies", "journal", "5 refused 24 MB bodies of [[],[],...] and "
           "[],[],...", refused_bodies, seconds=20),
    Attack("journal-long-run", "journal", "20,000 calls on one connection, every tenth a "
           "refused 60 KB body", long_run, seconds=20),
)
