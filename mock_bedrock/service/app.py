"""The mock Bedrock Runtime: one WSGI application that both doors (the HTTP server and the
in-process botocore hook) serve.

This module routes and sequences a call; the wire format is in :mod:`mock_bedrock.service.wire`,
which model an id names in :mod:`mock_bedrock.service.models`, and what each model answers in
:mod:`mock_bedrock.engines`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, NamedTuple

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response

from bedrock_contract import Catalogue, InvalidRequestBody, ValidRequest, check_request
from bedrock_contract.input_check import input_violations, refusal_message
from bedrock_contract.service import CONTROL_OPERATIONS, GET_MODEL
from mock_bedrock.engines import Engine
from mock_bedrock.service.admin import PREFIX as ADMIN_PREFIX, AdminEndpoints
from mock_bedrock.service.errors import (
    INVOKE,
    INVOKE_STREAM,
    OPERATIONS,
    BedrockError,
    operation_model,
    validation_error,
)
from mock_bedrock.service.faults import CallFacts, FaultRule, FaultSet
from mock_bedrock.service.foundation_models import FoundationModels
from mock_bedrock.service.journal import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ENTRIES,
    JOURNALED_HEADERS,
    Journal,
    JournalEntry,
)
from mock_bedrock.service.models import MEDIA_TYPE, ModelTable, ServedModel
from mock_bedrock.service.sigv4 import SigV4Verifier
from mock_bedrock.service.stubs import answered_with
from mock_bedrock.service.wire import (
    REQUEST_ID_HEADER,
    BedrockRequest,
    FixedResponse,
    call_region,
    check_media_types,
    chunk_events,
    environ_key,
    error_response,
    exception_event,
    header_parameters,
    json_response,
    max_chunk_length,
    read_body,
    read_input,
    served_headers,
    signed_url,
    stream_response,
)

logger = logging.getLogger("mock_bedrock")

INTERNAL_ERROR_MESSAGE = "The server encountered an internal error while processing the request."
# Bedrock's own wording where it is known; other injected errors say where they came from.
FAULT_MESSAGES = {
    "ThrottlingException": "Too many requests, please wait before trying again.",
}

WSGIEnvironment = dict[str, Any]
StartResponse = Any
WSGIApplication = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]
Answer = Response | FixedResponse


# Read straight from the environ: asking werkzeug's Headers view costs more per call.
_JOURNALED_KEYS = tuple((header, environ_key(header)) for header in JOURNALED_HEADERS)


STUBBED = "stubbed"  # a journal outcome: a stub rule's picture answered the call
CLIENT_DISCONNECTED = "ClientDisconnected"  # a journal outcome: the body never arrived whole
# Where a call's facts are left in the environ for the request log (mock_bedrock.service.call_log):
CALL_ENTRY = "mock_bedrock.entry"  # the call's JournalEntry
FIRED_RULES = "mock_bedrock.fired_rules"  # each fired fault rule's name, else "#<its index>"
# A door that can stop (the server) puts a threading.Event here and sets it when it stops, so
# a call waiting out a latency fault ends then instead of holding the stop for minutes.
STOPPING = "mock_bedrock.stopping"


class DropConnection(Exception):
    """A fault asked for the connection to be dropped; each door drops it its own way."""

    outcome = "DropConnection"  # what the journal records


class ServerStopping(DropConnection):
    """The door stopped while the call waited out a latency fault. Dropped, not answered:
    the door closes every connection within a second of its stop, so an answer might never
    be read; any answer would be false (a success before the latency has passed, or an error
    the service does not give); and a dropped connection is what a client of an endpoint
    that goes away sees, which SDKs retry."""

    outcome = "ServerStopped"


class Admitted(NamedTuple):
    """A call that passed every check the service makes before the model runs."""

    operation: str
    served: ServedModel
    valid: ValidRequest
    # The per-model parameters it asked for (service tier, latency), echoed in the answer.
    parameters: dict[str, str]


@dataclass(frozen=True)
class Route:
    """One operation's URI template from the service model, compiled to a full-match regex."""

    operation: str
    method: str
    pattern: re.Pattern[str]


# A URI template's label, e.g. "{modelId}"; it matches as werkzeug's path converter does (a
# model id may hold "/", as ARNs do, but may not start with one).
_LABEL = re.compile(r"\{(\w+)\}")
_LABEL_PATTERN = "[^/].*?"


def _compile(template: str) -> re.Pattern[str]:
    parts = _LABEL.split(template)  # literal, label, literal, label, ..., literal
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>{_LABEL_PATTERN})"
        for index, part in enumerate(parts)
    )
    return re.compile(regex)


@cache
def operation_routes() -> tuple[Route, ...]:
    """The routes of the operations the mock serves. Compiled here once, matched per request
    with ``fullmatch``: a werkzeug ``Map`` bind and match cost a fifth of a served call."""
    routes = []
    for operation in (*OPERATIONS, *CONTROL_OPERATIONS):
        http = operation_model(operation).http
        routes.append(Route(operation, http["method"], _compile(http["requestUri"])))
    return tuple(routes)


def route(method: str, path: str) -> tuple[str, str]:
    """The operation and (decoded) model id a request names ("" for an operation whose URI
    names none); UnknownOperationException for any other method and path."""
    allowed = []
    for candidate in operation_routes():
        found = candidate.pattern.fullmatch(path)
        if found is None:
            continue
        if candidate.method == method:
            return candidate.operation, next(iter(found.groupdict().values()), "")
        allowed.append(candidate.method)
    message = f"No operation matches {method} {path}"
    # A known path asked with the wrong method says which methods it takes, as HTTP's 405
    # would (the service answers it as an unknown operation).
    headers = {"Allow": ", ".join(sorted(set(allowed)))} if allowed else {}
    raise BedrockError("UnknownOperationException", message, headers=headers)


class MockBedrock:
    """Bedrock Runtime for Stability's image models, as a WSGI application.

    ``catalogue`` is the models served (default: the built-in folders and
    ``BEDROCK_CONTRACT_PATH``'s); ``as_of`` answers each model as the service did on that
    date (None: every described model, retired or not). ``credentials`` ({access key id:
    secret}) turns on strict SigV4 checking; without it any signature, or none, is
    accepted. ``engines`` replaces engines by profile name (``engine`` is SDXL's).
    ``stream_chunk_length`` caps the model-output bytes per stream chunk (default: the
    service's maximum). ``journal_max_entries`` and ``journal_max_bytes`` bound the journal
    (None: no bound); past them it drops its oldest entries and counts them.
    """

    def __init__(
        self,
        *,
        faults: Iterable[FaultRule] = (),
        credentials: Mapping[str, str] | None = None,
        catalogue: Catalogue | None = None,
        as_of: dt.date | None = None,
        engines: Mapping[str, Engine] | None = None,
        engine: Engine | None = None,
        stream_chunk_length: int | None = None,
        journal_max_entries: int | None = DEFAULT_MAX_ENTRIES,
        journal_max_bytes: int | None = DEFAULT_MAX_BYTES,
    ) -> None:
        self.faults = FaultSet(faults, catalogue)
        self.journal = Journal(journal_max_entries, journal_max_bytes)
        self._verifier = SigV4Verifier(credentials) if credentials is not None else None
        chosen = {**(engines or {}), **({"sdxl": engine} if engine is not None else {})}
        self.models = ModelTable(catalogue, as_of=as_of, engines=chosen)
        limit = max_chunk_length()
        self._chunk_length = stream_chunk_length or limit
        if not 0 < self._chunk_length <= limit:
            raise ValueError(f"stream_chunk_length must be 1..{limit}")
        self._admin = AdminEndpoints(self.faults, self.journal, self.models)
        self._foundation_models = FoundationModels(self.models.catalogue)

    @property
    def checks_signatures(self) -> bool:
        """Whether a call needs a valid SigV4 signature (``credentials`` was given); the
        in-process door lets clients skip signing when it does not."""
        return self._verifier is not None

    @property
    def as_of(self) -> dt.date | None:
        """The date the mock answers as of (None: every described model is served)."""
        return self.models.as_of

    @as_of.setter
    def as_of(self, day: dt.date | None) -> None:
        self.models.as_of = day

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        request = BedrockRequest(environ)
        request_id = str(uuid.uuid4())
        response: Answer
        if request.path.startswith(ADMIN_PREFIX) or request.path == ADMIN_PREFIX.rstrip("/"):
            response = self._admin.handle(request)
            response.headers[REQUEST_ID_HEADER] = request_id
        else:
            response = self._answer(request, request_id)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    def _answer(self, request: BedrockRequest, request_id: str) -> Answer:
        environ = request.environ
        entry = JournalEntry(
            time=time.time(), request_id=request_id, method=request.method,
            path=request.path, operation=None, model_id=None,
            headers={h: environ[k] for h, k in _JOURNALED_KEYS if k in environ},
            epoch=self.journal.epoch,
        )
        environ[CALL_ENTRY] = entry
        try:
            response = self._serve(request, request_id, entry)
        except DropConnection as drop:
            entry.outcome = drop.outcome
            self._record(entry)
            raise
        except (ClientDisconnected, ConnectionError):
            # The client went away mid-body: nobody is left to answer, and it is no fault of
            # the service's (not a 500); the door closes what is left of the connection.
            entry.outcome = CLIENT_DISCONNECTED
            self._record(entry)
            raise DropConnection("the client disconnected mid-body") from None
        except BedrockError as err:
            entry.outcome = err.code
            response = error_response(err, request_id)
        except Exception:
            logger.exception("mock_bedrock: request %s failed", request_id)
            entry.outcome = "InternalServerException"
            response = error_response(
                BedrockError("InternalServerException", INTERNAL_ERROR_MESSAGE), request_id
            )
        entry.status = response.status_code
        self._record(entry)
        return response

    def _record(self, entry: JournalEntry) -> None:
        self.journal.record(entry)

    def _serve(self, request: BedrockRequest, request_id: str, entry: JournalEntry) -> Answer:
        operation, model_id = route(request.method, request.path)
        entry.operation, entry.model_id = operation, model_id
        if operation in CONTROL_OPERATIONS:
            return self._control_plane(request, operation, model_id, request_id)
        admitted = self._admit(request, entry)
        operation, served, valid = admitted.operation, admitted.served, admitted.valid
        contract = served.contract
        call = CallFacts(
            operation, served.model_id, _prompts(served, valid), contract.finish_reasons
        )
        rule = self._apply_faults(call, entry, request.environ)
        forced = rule is not None and rule.finish_reason is not None
        generation = served.engine.generate(
            contract, served.model_id, valid,
            finish_reason=rule.finish_reason if forced and rule else None,
            with_image=rule.with_image if forced and rule else True,
        )
        entry.seed = generation.seed
        entry.outcome = generation.finish_reason or "success"
        if served.retired is not None:
            entry.end_of_life = served.retired.to_json()
        if rule is not None and rule.picture is not None:
            body = answered_with(generation.body, contract.response, rule.picture,
                                 as_given=rule.image_as == "given")
            generation = replace(generation, body=body)
            entry.outcome = STUBBED
        served_as = served_headers(operation, admitted.parameters)
        if operation == INVOKE:
            return json_response(generation.body, request_id, served_as)
        assert operation == INVOKE_STREAM
        events = chunk_events(generation.body, self._chunk_length)
        if rule is not None and rule.stream_error is not None:
            # The error arrives mid-stream: after the first chunk, instead of the rest.
            message = rule.message or _injected(rule.stream_error)
            events = [*events[:1], exception_event(rule.stream_error, message)]
            entry.outcome = rule.stream_error
        return stream_response(events, request_id, MEDIA_TYPE, served_as)

    def _admit(self, request: BedrockRequest, entry: JournalEntry) -> Admitted:
        """The checks the service makes before the model runs, in the service's order:
        route; the input against botocore's constraints (headers, body length); signature;
        model id; streaming; media types; the model's service tiers and latencies; body.

        The input check comes before the signature, as the body-length check always did
        (a body too long is refused before it is read whole, and the signature covers it):
        the AWS framework validates the operation's input in one pass, before the service
        sees the model id or the body. Tiers and latencies come once the model is known;
        that they come before the body is ours."""
        assert entry.operation is not None and entry.model_id is not None
        operation, model_id = entry.operation, entry.model_id
        words = self.models.catalogue.words
        parameters = header_parameters(request.environ, operation)
        raw = read_input(request, operation, parameters, words.service_checked)
        entry.raw_body = raw
        if self._verifier is not None:
            url = signed_url(request, operation, model_id)
            self._verifier.verify(request.method, url, request.headers, raw)
        served = self.models.resolve(model_id)
        offered = served.contract.invoke_parameters
        if operation == INVOKE_STREAM and not served.contract.streaming:
            raise BedrockError(*words.streaming_unsupported)
        check_media_types(request, operation, MEDIA_TYPE)
        refusal = words.parameter_refusal(offered, parameters, model_id, call_region(request))
        if refusal is not None:
            raise BedrockError(*refusal)
        try:
            valid = check_request(served.contract, raw)
        except InvalidRequestBody as err:
            raise validation_error(err.message) from None
        entry.body = valid.body
        asked = {member: value for member, value in parameters.items() if member in offered}
        return Admitted(operation, served, valid, asked)

    def _control_plane(self, request: BedrockRequest, operation: str, model_id: str,
                       request_id: str) -> Answer:
        """``GetFoundationModel`` and ``ListFoundationModels``, as of the mock's date."""
        given = {**request.args.to_dict(), **({"modelIdentifier": model_id} if model_id else {})}
        violations = input_violations(operation, given)
        if violations:
            raise validation_error(refusal_message(violations))
        if self._verifier is not None:
            url = signed_url(request, operation, model_id)
            self._verifier.verify(request.method, url, request.headers, read_body(request))
        region, as_of = call_region(request), self.models.as_of
        if operation == GET_MODEL:
            answer = self._foundation_models.get(model_id, region, as_of)
        else:
            answer = self._foundation_models.list(given, region, as_of)
        return json_response(json.dumps(answer).encode(), request_id)

    def _apply_faults(
        self, call: CallFacts, entry: JournalEntry, environ: WSGIEnvironment
    ) -> FaultRule | None:
        """Waits and raises as the rules say; returns the rule whose outcome is left for
        the response (a finish reason or a stream error), if any."""
        decision = self.faults.decide(call)
        entry.faults = [rule.name or rule.outcome or "latency_ms" for rule in decision.fired]
        if decision.fired:
            environ[FIRED_RULES] = _rule_labels(decision.fired, self.faults.rules)
        if decision.latency_ms:
            _wait(decision.latency_ms / 1000, environ.get(STOPPING))
        rule = decision.rule
        if rule is not None and rule.drop_connection:
            raise DropConnection(f"fault rule {rule.name or rule.to_dict()}")
        if rule is not None and rule.error is not None:
            raise BedrockError(
                rule.error, rule.message or FAULT_MESSAGES.get(rule.error, _injected(rule.error))
            )
        return rule


def _wait(seconds: float, stopping: threading.Event | None) -> None:
    """A latency fault's wait, cut short by the door's stop (ServerStopping) if it has one."""
    if stopping is None:
        time.sleep(seconds)
    elif stopping.wait(seconds):
        raise ServerStopping("the server stopped during a latency fault")


def _rule_labels(fired: Iterable[FaultRule], rules: list[FaultRule]) -> list[str]:
    """Each fired rule's name, else its place in the rule list (where a person finds it in
    the faults file or ``GET /_mock/faults``); rules are equal by value, so by identity."""
    places = {id(rule): index for index, rule in enumerate(rules)}
    return [
        rule.name or (f"#{places[id(rule)]}" if id(rule) in places else "#?") for rule in fired
    ]


def _prompts(served: ServedModel, valid: ValidRequest) -> tuple[str, ...]:
    return tuple(prompt.text for prompt in served.contract.prompts.of(valid.body))


def _injected(code: str) -> str:
    return f"{code} injected by a mock-bedrock fault rule."


class MockControls:
    """``faults`` and ``journal`` for a door serving ``app``: both doors serve any WSGI
    application (the recorder and the replayer too), but only a :class:`MockBedrock` has
    them."""

    app: WSGIApplication

    @property
    def faults(self) -> FaultSet:
        return self._mock("faults").faults

    @property
    def journal(self) -> Journal:
        return self._mock("journal").journal

    def _mock(self, wanted: str) -> MockBedrock:
        if not isinstance(self.app, MockBedrock):
            raise TypeError(
                f"no {wanted} here: the app served is a {type(self.app).__name__}, not a "
                "MockBedrock (only the mock has faults and a journal)"
            )
        return self.app
