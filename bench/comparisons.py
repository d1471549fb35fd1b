"""The five comparisons, each turning measurements into table rows."""

from __future__ import annotations

import statistics
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import count
from time import perf_counter
from typing import Any

from bedrock_contract import DEFAULT_SIZE, allowed_sizes, check_request
from bench import baselines, bodies, clients, memory, subjects
from bench.invoke import invoke
from bench.plan import Plan
from bench.rows import Row, Target
from bench.timing import (
    Call,
    Contender,
    NotAvailable,
    Outcome,
    concurrent_rate,
    interleaved,
    summarize,
)

# The targets issue 6 sets (bench goals, not contract rules).
INPROCESS_LATENCY = Target("ratio", "<=", 1.5)
SERVER_LATENCY = Target("ratio", "<=", 1.3)
SERVER_THROUGHPUT = Target("ratio", ">=", 0.8)
FIRST_RENDER_MS = Target("value", "<=", 8, "ms")
FIRST_RENDER_SIZE = DEFAULT_SIZE  # the target is set for the default (1024x1024) size
VALIDATION_RATE = Target("value", ">=", 20_000, "bodies/s")

Section = Callable[[Plan], list[Row]]


def guarded(section: str, run: Section, plan: Plan) -> list[Row]:
    """A section's rows, or one row saying why there are none: never an exception."""
    try:
        return run(plan)
    except NotAvailable as err:
        return [Row(section, "-", "", None, None, note=f"not available: {err}")]
    except Exception as err:
        traceback.print_exc()
        return [Row(section, "-", "", None, None, note=f"{type(err).__name__}: {err}",
                    failed=True)]


def _why(outcome: Outcome) -> str:
    if outcome.error is None:
        return ""
    if isinstance(outcome.error, NotAvailable):
        return f"not available: {outcome.error}"
    return f"{type(outcome.error).__name__}: {outcome.error}"


def _failed(outcome: Outcome) -> bool:
    return outcome.error is not None and not isinstance(outcome.error, NotAvailable)


def _spread(mine: Outcome, theirs: Outcome) -> str:
    """How far round medians strayed: a wide range means a noisy machine, not a result."""
    if mine.error or theirs.error or len(mine.rounds) < 2:
        return ""
    ranges = [(min(m), max(m)) for m in (mine.round_medians_ms(), theirs.round_medians_ms())]
    return ("median per round {:.2f}-{:.2f} ms vs {:.2f}-{:.2f} ms"
            .format(*ranges[0], *ranges[1]))


def latency_rows(section: str, subject: tuple[str, Outcome], baseline: tuple[str, Outcome],
                 target: Target) -> list[Row]:
    (subject_name, mine), (baseline_name, theirs) = subject, baseline
    ours = summarize(mine.samples) if mine.error is None else None
    base = summarize(theirs.samples) if theirs.error is None else None
    note = "; ".join(filter(None, (_why(mine), _why(theirs), _spread(mine, theirs))))
    failed = _failed(mine) or _failed(theirs)
    return [
        Row(section, f"{label} latency", "ms",
            getattr(ours, attr) if ours else None, getattr(base, attr) if base else None,
            target, subject_name, baseline_name, note, failed)
        for label, attr in (("median", "median_ms"), ("p99", "p99_ms"))
    ]


def _calls(client_context: Callable[[], AbstractContextManager[Any]], body: bytes) -> Contender:
    @contextmanager
    def contender() -> Iterator[Call]:
        with client_context() as client:
            yield lambda: invoke(client, body)

    return contender


# --- 1. in-process mock vs moto --------------------------------------------------------


def inprocess_vs_moto(plan: Plan) -> list[Row]:
    section = "1. in-process invoke_model 1024x1024"
    body = bodies.encode(bodies.text_to_image())
    outcomes = interleaved(
        {"mock": _calls(subjects.inprocess_client, body),
         "moto": _calls(baselines.moto_client, body)},
        rounds=plan.rounds, per_round=plan.latency_calls // plan.rounds, warmup=plan.warmup,
    )
    return latency_rows(section, ("mock_sdxl()", outcomes["mock"]),
                        ("moto mock_aws()", outcomes["moto"]), INPROCESS_LATENCY)


# --- 2. server mock vs a bare HTTP server ----------------------------------------------


@contextmanager
def _client_at(endpoint_url: str) -> Iterator[Any]:
    client = clients.bedrock_runtime(endpoint_url)
    try:
        yield client
    finally:
        client.close()


def _canned_mock_response(body: bytes) -> baselines.CannedResponse:
    """What the mock server answers ``body`` with, to be replayed by the bare server."""
    with subjects.mock_server() as server, _client_at(server.endpoint_url) as client:
        response = client.invoke_model(modelId=bodies.MODEL_ID, body=body,
                                       contentType="application/json",
                                       accept="application/json")
        meta = response["ResponseMetadata"]
        return baselines.canned_from(meta["HTTPStatusCode"], meta["HTTPHeaders"],
                                     response["body"].read())


@contextmanager
def _mock_endpoint() -> Iterator[str]:
    with subjects.mock_server() as server:
        yield server.endpoint_url


def _bare_endpoint(canned: baselines.CannedResponse) -> Callable[[], AbstractContextManager[str]]:
    @contextmanager
    def endpoint() -> Iterator[str]:
        with baselines.BareHTTPServer(canned) as server:
            yield server.endpoint_url

    return endpoint


def _served_calls(endpoint: Callable[[], AbstractContextManager[str]], body: bytes) -> Contender:
    @contextmanager
    def contender() -> Iterator[Call]:
        with endpoint() as url, _client_at(url) as client:
            yield lambda: invoke(client, body)

    return contender


def _rate(endpoint: Callable[[], AbstractContextManager[str]], body: bytes, plan: Plan) -> float:
    with endpoint() as url:
        return concurrent_rate(_calls(lambda: _client_at(url), body), threads=plan.threads,
                               calls_per_thread=plan.calls_per_thread, warmup=plan.warmup)


def server_vs_bare_http(plan: Plan) -> list[Row]:
    section = "2. server invoke_model 1024x1024"
    body = bodies.encode(bodies.text_to_image())
    canned = _canned_mock_response(body)
    endpoints = {"mock": _mock_endpoint, "bare": _bare_endpoint(canned)}
    outcomes = interleaved(
        {name: _served_calls(endpoint, body) for name, endpoint in endpoints.items()},
        rounds=plan.rounds, per_round=plan.latency_calls // plan.rounds, warmup=plan.warmup,
    )
    names = {"mock": "MockServer", "bare": "http.server (canned)"}
    rows = latency_rows(section, (names["mock"], outcomes["mock"]),
                        (names["bare"], outcomes["bare"]), SERVER_LATENCY)
    rates: dict[str, list[float]] = {name: [] for name in endpoints}
    for _ in range(plan.throughput_rounds):
        for name, endpoint in endpoints.items():
            rates[name].append(_rate(endpoint, body, plan))
    rows.append(Row(section, f"throughput, {plan.threads} clients", "req/s",
                    statistics.median(rates["mock"]), statistics.median(rates["bare"]),
                    SERVER_THROUGHPUT, names["mock"], names["bare"],
                    f"median of {plan.throughput_rounds} rounds; clients and server share one "
                    f"process (as with the pytest fixture); response {len(canned.body):,} "
                    f"bytes, {len(canned.headers) + 3} headers replayed"))
    return rows


# --- 3. first (uncached) placeholder render per size -----------------------------------


def _fresh_renders(render: Callable[[dict[str, Any], int], bytes],
                   size: tuple[int, int]) -> Contender:
    numbers = count(1)

    @contextmanager
    def contender() -> Iterator[Call]:
        def call() -> bytes:
            # A new seed and prompt each time: every render is a first render.
            n = next(numbers)
            return render(bodies.text_to_image(size, seed=n, prompt=f"{bodies.PROMPT} {n}"), n)

        yield call

    return contender


@contextmanager
def _naive_renders_of(size: tuple[int, int]) -> Iterator[Call]:
    yield lambda: baselines.naive_png(size)


def first_renders(plan: Plan) -> list[Row]:
    section = "3. first placeholder render"
    render = subjects.uncached_render()
    rows = []
    for size in allowed_sizes():
        outcomes = interleaved(
            {"mock": _fresh_renders(render, size),
             "naive": lambda size=size: _naive_renders_of(size)},
            rounds=plan.rounds, per_round=max(2, plan.renders_per_size // plan.rounds),
            warmup=min(1, plan.warmup),  # one call loads the fonts; no steady state to reach
        )
        mine, naive = outcomes["mock"], outcomes["naive"]
        rows.append(Row(
            section, f"{size[0]}x{size[1]} median", "ms",
            summarize(mine.samples).median_ms if mine.error is None else None,
            summarize(naive.samples).median_ms if naive.error is None else None,
            FIRST_RENDER_MS if size == FIRST_RENDER_SIZE else None,
            "placeholder.render_png", "naive Pillow PNG",
            "; ".join(filter(None, (_why(mine), _why(naive)))), _failed(mine) or _failed(naive),
        ))
    return rows


# --- 4. validation throughput -----------------------------------------------------------


def _rate_over(validate: Callable[[bytes], object], items: list[bytes]) -> tuple[int, float]:
    start = perf_counter()
    for raw in items:
        validate(raw)
    return len(items), perf_counter() - start


def validation_rate(plan: Plan) -> list[Row]:
    section = "4. request validation"
    mine_per_round = max(1, plan.validated_bodies // plan.rounds)
    theirs_per_round = max(1, plan.baseline_validated_bodies // plan.rounds)
    distinct = bodies.distinct_bodies((mine_per_round + theirs_per_round) * plan.rounds)
    plain = baselines.plain_validator()
    check_request(distinct[0])  # compile the validators outside the timing
    plain(distinct[0])
    totals = {"mine": [0, 0.0], "plain": [0, 0.0]}
    at = 0
    for _ in range(plan.rounds):
        for name, validate, take in (("mine", check_request, mine_per_round),
                                     ("plain", plain, theirs_per_round)):
            done, seconds = _rate_over(validate, distinct[at:at + take])
            at += take
            totals[name][0] += done
            totals[name][1] += seconds
    mine, plain_rate = (totals[n][0] / totals[n][1] for n in ("mine", "plain"))
    return [Row(section, "distinct bodies per second", "bodies/s", mine, plain_rate,
                VALIDATION_RATE, "bedrock_contract.check_request",
                "jsonschema Draft202012Validator",
                f"{totals['mine'][0]:,} vs {totals['plain'][0]:,} bodies, JSON parsing "
                "included on both sides")]


# --- 5. memory over many in-process calls -----------------------------------------------


def memory_growth(plan: Plan) -> list[Row]:
    section = "5. in-process memory"
    rows = []
    for growth in memory.growth_of_all(plan.memory_calls):
        rows.append(Row(
            section, f"{growth.probe} growth, {growth.variant}", "MiB",
            growth.grown_bytes / 2**20, None, None, "mock_sdxl()", "",
            f"{growth.calls:,} calls, {growth.grown_bytes / growth.calls / 1024:.1f} KiB/call; "
            f"{growth.journal_entries:,} journal entries at the end",
        ))
    return rows


SECTIONS: dict[str, tuple[str, Section]] = {
    "inprocess": ("1. in-process invoke_model 1024x1024", inprocess_vs_moto),
    "server": ("2. server invoke_model 1024x1024", server_vs_bare_http),
    "render": ("3. first placeholder render", first_renders),
    "validation": ("4. request validation", validation_rate),
    "memory": ("5. in-process memory", memory_growth),
}
