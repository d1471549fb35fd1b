"""Sampling and summarising: latencies of one caller, throughput of many.

Contenders are measured in alternating rounds (subject, baseline, subject, ...) so that a
slow patch of the machine lands on both sides instead of skewing one of them.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from time import perf_counter

Call = Callable[[], object]
# Sets a contender up, yields the call to time, tears it down on exit.
Contender = Callable[[], AbstractContextManager[Call]]


class NotAvailable(Exception):
    """A piece the bench measures is not importable (yet): its row says so."""


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p99_ms: float
    samples: int


def summarize(seconds: list[float]) -> Latency:
    if len(seconds) < 2:
        raise ValueError("need at least two samples for a p99")
    p99 = statistics.quantiles(seconds, n=100, method="inclusive")[98]
    return Latency(statistics.median(seconds) * 1e3, p99 * 1e3, len(seconds))


def time_each(call: Call, count: int) -> list[float]:
    """Seconds taken by each of ``count`` calls."""
    taken = []
    for _ in range(count):
        start = perf_counter()
        call()
        taken.append(perf_counter() - start)
    return taken


@dataclass
class Outcome:
    """One contender's samples, round by round, or why it could not be measured."""

    rounds: list[list[float]]
    error: BaseException | None = None

    @property
    def samples(self) -> list[float]:
        return [taken for one_round in self.rounds for taken in one_round]

    def round_medians_ms(self) -> list[float]:
        return [statistics.median(r) * 1e3 for r in self.rounds if r]


def _rounds(contenders: Mapping[str, Contender], rounds: int) -> Iterator[tuple[str, Contender]]:
    for _ in range(rounds):
        yield from contenders.items()


def interleaved(
    contenders: Mapping[str, Contender], *, rounds: int, per_round: int, warmup: int
) -> dict[str, Outcome]:
    """Per-call seconds of each contender, rounds alternating between them; a contender
    that fails is dropped from later rounds and keeps its error."""
    outcomes = {name: Outcome([]) for name in contenders}
    for name, contender in _rounds(contenders, rounds):
        outcome = outcomes[name]
        if outcome.error is not None:
            continue
        try:
            with contender() as call:
                time_each(call, warmup)
                outcome.rounds.append(time_each(call, per_round))
        except Exception as err:  # recorded and reported in the row, never fatal
            outcome.error = err
    return outcomes


def concurrent_rate(
    make_call: Callable[[], AbstractContextManager[Call]],
    *,
    threads: int,
    calls_per_thread: int,
    warmup: int,
) -> float:
    """Calls per second with ``threads`` callers at once, each with its own call (its own
    client), all released together after their warm-up."""
    start_line = threading.Barrier(threads + 1, timeout=60)
    errors: list[BaseException] = []
    finished: list[float] = []  # when each caller's last call returned (before cleanup)

    def caller() -> None:
        try:
            with make_call() as call:
                time_each(call, warmup)
                start_line.wait()
                time_each(call, calls_per_thread)
                finished.append(perf_counter())
        except threading.BrokenBarrierError:
            pass  # another caller failed first; its error is the one reported
        except BaseException as err:
            errors.append(err)
            start_line.abort()

    workers = [threading.Thread(target=caller, name=f"bench-caller-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        start_line.wait()
        started = perf_counter()
    except threading.BrokenBarrierError:
        started = perf_counter()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return threads * calls_per_thread / (max(finished) - started)
