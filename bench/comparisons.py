"""The comparisons, each turning measurements into table rows (a user's suite and the
command-line start-up in their own modules)."""

from __future__ import annotations

import functools
import statistics
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import count
from time import perf_counter
from typing import Any

from bedrock_contract import (
    ModelContract,
    Size,
    ValidRequest,
    check_request,
    contract_for,
    format_size,
)
from bench import baselines, bodies, clients, memory, subjects
from bench.bodies import Request
from bench.invoke import invoke
from bench.plan import Plan
from bench.rows import Row, Target
from bench.startup import cli_startup
from bench.timing import (
    Call,
    Contender,
    NotAvailable,
    Outcome,
    concurrent_rate,
    interleaved,
    summarize,
)
from bench.user_suite import user_suite

# The targets issue 6 sets (bench goals, not contract rules); the Stable Image Core rows
# are held to SDXL's, as the multi-model issue asks ("the ratios hold").
INPROCESS_LATENCY = Target("ratio", "<=", 1.5)
SERVER_LATENCY = Target("ratio", "<=", 1.3)
SERVER_THROUGHPUT = Target("ratio", ">=", 0.8)
# A first PNG render at the default size: absolute, since a naive Pillow PNG is no floor
# (the mock writes its own PNG rows, and beats Pillow's encoder).
FIRST_RENDER_MS = Target("value", "<=", 8, "ms")
# A first JPEG or WebP render, against a naive Pillow encode (a flat picture, one line of
# text, Pillow's default quality) of the same format at the same size: what any placeholder
# in that format must pay. The mock draws a fuller picture and must hand the whole of it to
# Pillow's encoder (its own row writer only does PNG), so it may cost more than the floor,
# but not a second copy of it: 1.5x leaves half an encode for drawing the bands and the
# caption and embedding the parameters.
LOSSY_RENDER = Target("ratio", "<=", 1.5)
# A first Image Services render (issue 10), against naive Pillow doing the same job from the
# same decoded input: a fill pasted through the mask, or a 4x bicubic resize, saved as PNG.
# The mock must pay the same encode of a picture of the same size (one with no repeated
# rows, so its own row writer cannot help and Pillow's encoder does it) plus its caption
# and the embedded parameters: 1.5x leaves half an encode for those and for the
# operation's own steps (thresholding and growing the mask, compositing).
SERVICES_RENDER = Target("ratio", "<=", 1.5)
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
                 target: Target, about: str = "") -> list[Row]:
    """A median and a p99 row; ``about`` (which request) leads each metric."""
    (subject_name, mine), (baseline_name, theirs) = subject, baseline
    ours = summarize(mine.samples) if mine.error is None else None
    base = summarize(theirs.samples) if theirs.error is None else None
    note = "; ".join(filter(None, (_why(mine), _why(theirs), _spread(mine, theirs))))
    failed = _failed(mine) or _failed(theirs)
    return [
        Row(section, f"{about} {label} latency".lstrip(), "ms",
            getattr(ours, attr) if ours else None, getattr(base, attr) if base else None,
            target, subject_name, baseline_name, note, failed)
        for label, attr in (("median", "median_ms"), ("p99", "p99_ms"))
    ]


def _calls(client_context: Callable[[], AbstractContextManager[Any]],
           request: Request) -> Contender:
    @contextmanager
    def contender() -> Iterator[Call]:
        with client_context() as client:
            yield lambda: invoke(client, request)

    return contender


def latency_requests() -> dict[str, Request]:
    """What sections 1 and 2 send, by the name their rows carry: SDXL's default body, and
    beside it Stable Image Core's at the same size (aspect ratio 1:1) as a PNG."""
    found = {}
    for model_id, fields in ((bodies.SDXL_ID, {}), (bodies.CORE_ID, {"output_format": "png"})):
        request = bodies.request(model_id, **fields)
        found[request.contract.name] = request
    return found


# --- 1. in-process mock vs moto --------------------------------------------------------


def inprocess_vs_moto(plan: Plan) -> list[Row]:
    section = "1. in-process invoke_model 1024x1024"
    requests = latency_requests()
    contenders: dict[str, Contender] = {}
    for name, request in requests.items():
        contenders[f"mock {name}"] = _calls(subjects.inprocess_client, request)
        contenders[f"moto {name}"] = _calls(baselines.moto_client, request)
    outcomes = interleaved(contenders, rounds=plan.rounds,
                           per_round=plan.latency_calls // plan.rounds, warmup=plan.warmup)
    rows = []
    for name in requests:
        rows += latency_rows(section, ("mock_sdxl()", outcomes[f"mock {name}"]),
                             ("moto mock_aws()", outcomes[f"moto {name}"]),
                             INPROCESS_LATENCY, name)
    return rows


# --- 2. server mock vs a bare HTTP server ----------------------------------------------


@contextmanager
def _client_at(endpoint_url: str) -> Iterator[Any]:
    client = clients.bedrock_runtime(endpoint_url)
    try:
        yield client
    finally:
        client.close()


def _canned_mock_responses(requests: dict[str, Request]) -> dict[str, baselines.CannedResponse]:
    """What the mock server answers each request with, to be replayed by the bare server."""
    canned = {}
    with subjects.mock_server() as server, _client_at(server.endpoint_url) as client:
        for name, request in requests.items():
            response = client.invoke_model(modelId=request.model_id, body=request.body,
                                           contentType="application/json",
                                           accept="application/json")
            meta = response["ResponseMetadata"]
            canned[name] = baselines.canned_from(meta["HTTPStatusCode"], meta["HTTPHeaders"],
                                                 response["body"].read())
    return canned


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


def _served_calls(endpoint: Callable[[], AbstractContextManager[str]],
                  request: Request) -> Contender:
    @contextmanager
    def contender() -> Iterator[Call]:
        with endpoint() as url, _client_at(url) as client:
            yield lambda: invoke(client, request)

    return contender


def _rate(endpoint: Callable[[], AbstractContextManager[str]], request: Request,
          plan: Plan) -> float:
    with endpoint() as url:
        return concurrent_rate(_calls(lambda: _client_at(url), request), threads=plan.threads,
                               calls_per_thread=plan.calls_per_thread, warmup=plan.warmup)


SERVER_NAMES = {"mock": "MockServer", "bare": "http.server (canned)"}


def server_vs_bare_http(plan: Plan) -> list[Row]:
    section = "2. server invoke_model 1024x1024"
    requests = latency_requests()
    canned = _canned_mock_responses(requests)
    endpoints = {
        name: {"mock": _mock_endpoint, "bare": _bare_endpoint(canned[name])} for name in requests
    }
    outcomes = interleaved(
        {f"{side} {name}": _served_calls(endpoint, requests[name])
         for name, sides in endpoints.items() for side, endpoint in sides.items()},
        rounds=plan.rounds, per_round=plan.latency_calls // plan.rounds, warmup=plan.warmup,
    )
    rows = []
    for name in requests:
        rows += latency_rows(section, (SERVER_NAMES["mock"], outcomes[f"mock {name}"]),
                             (SERVER_NAMES["bare"], outcomes[f"bare {name}"]),
                             SERVER_LATENCY, name)
    for name, sides in endpoints.items():
        rows.append(_throughput_row(section, name, sides, requests[name], canned[name], plan))
    return rows


def _throughput_row(section: str, name: str,
                    endpoints: dict[str, Callable[[], AbstractContextManager[str]]],
                    request: Request, canned: baselines.CannedResponse, plan: Plan) -> Row:
    rates: dict[str, list[float]] = {side: [] for side in endpoints}
    for _ in range(plan.throughput_rounds):
        for side, endpoint in endpoints.items():
            rates[side].append(_rate(endpoint, request, plan))
    return Row(section, f"{name} throughput, {plan.threads} clients", "req/s",
               statistics.median(rates["mock"]), statistics.median(rates["bare"]),
               SERVER_THROUGHPUT, SERVER_NAMES["mock"], SERVER_NAMES["bare"],
               f"median of {plan.throughput_rounds} rounds; clients and server share one "
               f"process (as with the pytest fixture); response {len(canned.body):,} "
               f"bytes, {len(canned.headers) + 3} headers replayed")


# --- 3. first (uncached) placeholder render --------------------------------------------


def _fresh_renders(make_render: Callable[[], subjects.Render],
                   body_at: Callable[[int], dict[str, Any]]) -> Contender:
    """Renders by ``make_render()``'s renderer, made as each round begins (so a piece that
    is not importable spoils only its own row)."""
    numbers = count(1)

    @contextmanager
    def contender() -> Iterator[Call]:
        render = make_render()

        def call() -> bytes:
            # A new seed and prompt each time: every render is a first render.
            n = next(numbers)
            return render(body_at(n), n)

        yield call

    return contender


def _calls_of(call: Call) -> Contender:
    @contextmanager
    def contender() -> Iterator[Call]:
        yield call

    return contender


def _naive_renders(size: Size, output_format: str) -> Contender:
    return _calls_of(functools.partial(baselines.naive_image, size, output_format))


def _render_row(section: str, metric: str, mine: Contender, naive: Contender,
                target: Target | None, names: tuple[str, str], plan: Plan,
                note: str = "") -> Row:
    outcomes = interleaved(
        {"mock": mine, "naive": naive},
        rounds=plan.rounds, per_round=max(2, plan.renders_per_size // plan.rounds),
        warmup=min(1, plan.warmup),  # one call loads the fonts; no steady state to reach
    )
    ours, theirs = outcomes["mock"], outcomes["naive"]
    return Row(
        section, metric, "ms",
        summarize(ours.samples).median_ms if ours.error is None else None,
        summarize(theirs.samples).median_ms if theirs.error is None else None,
        target, *names,
        "; ".join(filter(None, (note, _why(ours), _why(theirs)))),
        _failed(ours) or _failed(theirs),
    )


def _numbered(contract: ModelContract, size: Size,
              **fields: Any) -> Callable[[int], dict[str, Any]]:
    """Bodies at ``size``, the n-th with seed n and its own prompt."""

    def body_at(n: int) -> dict[str, Any]:
        return bodies.text_to_image(contract, size, seed=n, prompt=f"{bodies.PROMPT} {n}",
                                    **fields)

    return body_at


# The Image Services rows' output format: PNG, which every one of them offers.
SERVICES_FORMAT = "png"


@dataclass(frozen=True)
class ServiceJob:
    """One Image Service's first render and naive Pillow doing the same job.

    The mock side calls ``ServicesEngine.draw`` directly with the input images that
    ``check_request`` decoded once, outside the timing: a fast upscale's body has no seed or
    prompt to vary, so through the engine's ``generate`` a repeat body would be answered by
    its response cache, which ``draw`` sits below. Each call still gets a new seed (and,
    where the model takes one, a new prompt), so every render is a first render. The
    baseline starts from the same decoded images: neither side's time holds a PNG decode.
    """

    model_id: str
    body_at: Callable[[int], dict[str, Any]]  # the n-th body: seed n, its own prompt
    request: ValidRequest  # body_at(0), checked, its images decoded
    metric: str
    naive: Callable[[], bytes]
    naive_name: str
    note: str = ""

    @property
    def contract(self) -> ModelContract:
        return contract_for(self.model_id)

    def render(self) -> subjects.Render:
        return subjects.uncached_services_render(self.contract, self.model_id,
                                                 self.request.images)


def _bodies_for(contract: ModelContract, images: dict[str, str],
                fields: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    def body_at(n: int) -> dict[str, Any]:
        return bodies.image_body(contract, images, seed=n, prompt=f"{bodies.PROMPT} {n}",
                                 output_format=SERVICES_FORMAT, **fields)

    return body_at


def _inpaint_job() -> ServiceJob:
    """A 1-megapixel inpaint, a quarter of the picture masked, the mask grown by the
    contract's default."""
    contract = bodies.INPAINT
    op = contract.operation
    mask_field, grow_field = (op.field("mask"), op.field("grow")) if op else (None, None)
    if mask_field is None or grow_field is None:
        raise ValueError(f"{contract.name}'s operation names no mask or grow field")
    image_field, size = bodies.image_field(contract), bodies.INPAINT_INPUT
    grow = contract.field(grow_field)["default"]
    body_at = _bodies_for(contract, {
        image_field: bodies.png_base64(bodies.input_picture(size)),
        mask_field: bodies.png_base64(bodies.quarter_mask(size)),
    }, {grow_field: grow})
    request = check_request(contract, body_at(0))
    source = request.images[image_field]
    return ServiceJob(
        bodies.INPAINT_ID, body_at, request,
        f"{contract.name} {format_size(source.size)}, a quarter masked",
        functools.partial(baselines.naive_inpaint, source, request.images[mask_field],
                          SERVICES_FORMAT),
        f"naive Pillow fill through the mask, {SERVICES_FORMAT.upper()}",
        f"{grow_field} {grow} (the contract's default); the baseline pastes through the "
        "mask as it is",
    )


def _upscale_job() -> ServiceJob:
    """A fast upscale of a 512x512 picture, to the size the contract gives."""
    contract = bodies.FAST_UPSCALE
    image_field = bodies.image_field(contract)
    body_at = _bodies_for(
        contract, {image_field: bodies.png_base64(bodies.input_picture(bodies.UPSCALE_INPUT))},
        {},
    )
    request = check_request(contract, body_at(0))
    source = request.images[image_field]
    out = contract.output_size(request.body, request.images)
    return ServiceJob(
        bodies.FAST_UPSCALE_ID, body_at, request,
        f"{contract.name} {format_size(source.size)} to {format_size(out)}",
        functools.partial(baselines.naive_upscale, source, out, SERVICES_FORMAT),
        f"naive Pillow {out[0] / source.width:g}x bicubic, {SERVICES_FORMAT.upper()}",
    )


def service_jobs() -> list[ServiceJob]:
    """The Image Services section 3 renders (issue 10): an inpaint and a fast upscale."""
    return [_inpaint_job(), _upscale_job()]


def _service_row(section: str, job: ServiceJob, plan: Plan) -> Row:
    return _render_row(
        section, f"{job.metric}, {SERVICES_FORMAT} median",
        _fresh_renders(job.render, job.body_at), _calls_of(job.naive), SERVICES_RENDER,
        (f"ServicesEngine.draw, {job.contract.name}", job.naive_name), plan, job.note,
    )


def first_renders(plan: Plan) -> list[Row]:
    """SDXL's PNG at each allowed size, then each output format at the default size, then
    two Image Services (an inpaint, a fast upscale) beside naive Pillow doing the same."""
    section = "3. first placeholder render"
    sdxl = subjects.uncached_sdxl_render()
    default = bodies.default_size(bodies.SDXL)
    rows = [
        _render_row(section, f"SDXL {format_size(size)} median",
                    _fresh_renders(lambda: sdxl, _numbered(bodies.SDXL, size)),
                    _naive_renders(size, "png"),
                    FIRST_RENDER_MS if size == default else None,
                    ("engines.sdxl.render_png", "naive Pillow PNG"), plan)
        for size in bodies.sizes(bodies.SDXL)
    ]
    for output_format in bodies.OUTPUT_FORMATS:
        model_id, contract = bodies.format_model(output_format)
        size = bodies.default_size(contract)
        rows.append(_render_row(
            section, f"{output_format} {format_size(size)} median",
            _fresh_renders(functools.partial(subjects.uncached_render, contract, model_id),
                           _numbered(contract, size, output_format=output_format)),
            _naive_renders(size, output_format),
            FIRST_RENDER_MS if output_format == "png" else LOSSY_RENDER,
            (f"placeholder.render, {contract.name}", f"naive Pillow {output_format.upper()}"),
            plan,
        ))
    return rows + [_service_row(section, job, plan) for job in service_jobs()]


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
    mine = functools.partial(check_request, bodies.SDXL)
    plain = baselines.plain_validator(bodies.SDXL)
    mine(distinct[0])  # compile the validators outside the timing
    plain(distinct[0])
    totals = {"mine": [0, 0.0], "plain": [0, 0.0]}
    at = 0
    for _ in range(plan.rounds):
        for name, validate, take in (("mine", mine, mine_per_round),
                                     ("plain", plain, theirs_per_round)):
            done, seconds = _rate_over(validate, distinct[at:at + take])
            at += take
            totals[name][0] += done
            totals[name][1] += seconds
    mine_rate, plain_rate = (totals[n][0] / totals[n][1] for n in ("mine", "plain"))
    return [Row(section, "distinct bodies per second", "bodies/s", mine_rate, plain_rate,
                VALIDATION_RATE, "bedrock_contract.check_request",
                "jsonschema Draft7Validator",
                f"{totals['mine'][0]:,} vs {totals['plain'][0]:,} SDXL bodies, JSON parsing "
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
    "suite": ("6. a user's pytest suite", user_suite),
    "startup": ("7. command-line start-up", cli_startup),
}
