"""Memory growth of the in-process mock over many calls, each variant in a fresh process.

A fresh process per measurement keeps one variant's heap (and RSS high-water mark) out of
the next; tracemalloc and RSS are measured in separate processes because tracemalloc's own
bookkeeping would otherwise show up in RSS.
"""

from __future__ import annotations

import gc
import multiprocessing
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import bodies, subjects
from bench.invoke import invoke
from bench.timing import NotAvailable

WARMUP_CALLS = 20
STATUS = Path("/proc/self/status")


@dataclass(frozen=True)
class Variant:
    name: str
    clear_journal: bool  # clear after every call, as a long-lived user would
    distinct_requests: bool  # a new request each call: the result cache cannot answer
    # Every call of the distinct variant is a full render (~20 ms); a few hundred calls
    # already overflow every bounded cache on the render path, so more only costs time.
    max_calls: int | None = None


VARIANTS = (
    Variant("same request, journal kept", clear_journal=False, distinct_requests=False),
    Variant("same request, journal cleared", clear_journal=True, distinct_requests=False),
    Variant("distinct requests, journal cleared", clear_journal=True, distinct_requests=True,
            max_calls=300),
)


@dataclass(frozen=True)
class Growth:
    variant: str
    probe: str  # "tracemalloc" or "rss"
    calls: int
    grown_bytes: int
    journal_entries: int


def rss_bytes() -> int | None:
    """Resident set size from /proc (Linux); None elsewhere."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _requests(variant: Variant, calls: int) -> Iterator[bodies.Request]:
    if variant.distinct_requests:
        # The default size only, so every render is the same cost as the repeated one.
        for i in range(calls):
            yield bodies.request(seed=1 + i, prompt=f"{bodies.PROMPT} {i}")
    else:
        same = bodies.request()
        for _ in range(calls):
            yield same


def _probe(probe: str) -> int:
    gc.collect()
    if probe == "tracemalloc":
        return tracemalloc.get_traced_memory()[0]
    rss = rss_bytes()
    if rss is None:
        raise NotAvailable("RSS needs /proc/self/status (Linux)")
    return rss


def measure(variant: Variant, probe: str, calls: int) -> Growth:
    """Runs in a child process: warm up, then ``calls`` calls, reporting what stayed."""
    calls = min(calls, variant.max_calls or calls)
    with subjects.inprocess_mock() as (client, mock):
        for request in _requests(variant, WARMUP_CALLS):
            invoke(client, request)
        mock.journal.clear()
        if probe == "tracemalloc":
            tracemalloc.start()
        before = _probe(probe)
        for request in _requests(variant, calls):
            invoke(client, request)
            if variant.clear_journal:
                mock.journal.clear()
        after = _probe(probe)
        tracemalloc.stop()
        return Growth(variant.name, probe, calls, after - before, len(mock.journal))


def growth_of_all(calls: int) -> list[Growth]:
    context = multiprocessing.get_context("spawn")
    results = []
    for variant in VARIANTS:
        for probe in ("tracemalloc", "rss"):
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
                results.append(child.submit(measure, variant, probe, calls).result())
    return results
