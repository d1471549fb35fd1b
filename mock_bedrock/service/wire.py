"""Bedrock Runtime's rest-json wire format: reading requests, writing responses and events.

Everything that depends on HTTP lives here; header names, limits and error statuses come
from botocore's service model, so the mock speaks exactly what botocore expects.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import cache, lru_cache
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from botocore.utils import percent_encode
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_accept_header, parse_options_header
from werkzeug.wrappers import Request, Response

from bedrock_contract import service
from bedrock_contract.input_check import header_members, input_violations, refusal_message
from mock_bedrock.service import eventstream
from mock_bedrock.service.errors import (
    INVOKE,
    INVOKE_STREAM,
    BedrockError,
    namespace_of,
    operation_model,
    stream_exception_members,
    validation_error,
)

JSON = "application/json"
EVENT_STREAM = "application/vnd.amazon.eventstream"
REQUEST_ID_HEADER = "x-amzn-RequestId"
ERROR_TYPE_HEADER = "x-amzn-ErrorType"


def max_body_length() -> int:
    """The largest request body the model allows (the ``Body`` blob's ``max``)."""
    return service.max_body_length()


def max_chunk_length() -> int:
    """The most bytes one stream chunk may carry (``PayloadPart.bytes``'s ``max``)."""
    union = operation_model(INVOKE_STREAM).output_shape.members["body"]
    limit: int = union.members["chunk"].members["bytes"].metadata["max"]
    return limit


class BedrockRequest(Request):
    # werkzeug stops reading a chunked body at max_content_length (when the server marks
    # the input terminated, as chunked servers do) but cannot tell a body of exactly that
    # length from a longer one; one byte of slack lets read_input tell.
    max_content_length = max_body_length() + 1


def environ_key(header: str) -> str:
    """Where a WSGI server puts a request header (PEP 3333), as werkzeug's EnvironHeaders
    reads it; reading the environ directly costs less per call than werkzeug's view."""
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


@cache
def _header_keys(operation: str) -> tuple[tuple[str, str], ...]:
    return tuple((member, environ_key(name)) for member, name in header_members(operation).items())


def header_parameters(environ: dict[str, Any], operation: str) -> dict[str, str]:
    """The operation's header members the request carries, by member name, in the model's
    order."""
    return {member: environ[key] for member, key in _header_keys(operation) if key in environ}


def read_input(
    request: Request,
    operation: str,
    headers: Mapping[str, str] | None = None,
    unchecked: Collection[str] = (),
) -> bytes:
    """The request body, once the operation's input passes the AWS framework's check:
    ``headers`` (its header members, by name) against their constraints and the body
    against its length, every violation in one refusal. A body longer than the limit is
    refused by its Content-Length, before it is read. ``unchecked`` members are left to the
    service."""
    limit = max_body_length()
    length = request.content_length
    data = b""
    if length is None or length <= limit:
        try:
            data = request.get_data(cache=True)
        except RequestEntityTooLarge:
            length = limit + 1  # a chunked body past the limit: its length is all that matters
        else:
            length = len(data)
    violations = input_violations(operation, {**(headers or {}), "body": length}, unchecked)
    if violations:
        raise validation_error(refusal_message(violations))
    return data


def read_body(request: Request) -> bytes:
    """The request body, refused (as :func:`read_input` refuses it) when it is too long."""
    return read_input(request, INVOKE)


@cache
def header_name(operation: str, member: str) -> str:
    """The HTTP header an input member travels in, e.g. ``accept`` -> ``Accept``."""
    name: str = operation_model(operation).input_shape.members[member].serialization["name"]
    return name


# Clients send the same few header values on every call; parsing them once each keeps
# werkzeug's header parsers off the per-request path. Bounded: odd values just cycle through.
@lru_cache(maxsize=256)
def _is_media_type(content_type: str, media_type: str) -> bool:
    mimetype, _ = parse_options_header(content_type)
    return mimetype.lower() == media_type


@lru_cache(maxsize=256)
def _accepts(accept: str, media_type: str) -> bool:
    return parse_accept_header(accept, MIMEAccept).best_match([media_type]) is not None


# The service's wording for a body type it does not take (as seen from the live service);
# the Accept refusal is ours, in the same words.
CONTENT_TYPE_REFUSED = "The provided Content Type is invalid or not supported for this model"
ACCEPT_REFUSED = "The provided Accept Type is invalid or not supported for this model"


def check_media_types(request: Request, operation: str, media_type: str) -> None:
    """Refuse a body type or an accepted response type the model does not speak."""
    content_type = request.headers.get(header_name(operation, "contentType"))
    if content_type and not _is_media_type(content_type, media_type):
        raise validation_error(CONTENT_TYPE_REFUSED)
    accept = request.headers.get(header_name(operation, "accept"))
    if accept and not _accepts(accept, media_type):
        raise validation_error(ACCEPT_REFUSED)


# Where a call says which region it was made in: the region its signature is scoped to
# (Credential=<key>/<date>/<region>/...), else the regional endpoint it was sent to.
_SIGNED_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_ENDPOINT_REGION = re.compile(r"bedrock(?:-runtime)?(?:-fips)?\.([a-z0-9-]+)\.")
# A call that says neither (unsigned, to a local address): AWS's first region.
DEFAULT_REGION = "us-east-1"


def call_region(request: Request) -> str:
    """The region a call was made in, as the service knows its own."""
    found = _SIGNED_REGION.search(request.headers.get("Authorization", ""))
    found = found or _ENDPOINT_REGION.match(request.headers.get("Host", ""))
    return found[1] if found else DEFAULT_REGION


def signed_url(request: Request, operation: str, model_id: str) -> str:
    """The URL as the client sent it (and signed it): the raw path, percent-encoding intact.

    Servers put the raw path in REQUEST_URI/RAW_URI; without it, the path is rebuilt the
    way botocore renders the operation's URI template. The query is QUERY_STRING where the
    raw URI leaves it out (werkzeug's test environ does).
    """
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if raw:
        parts = urlsplit(raw)
        path, query = parts.path, parts.query
    else:
        template = operation_model(operation).http["requestUri"]
        path = re.sub(r"\{\w+\}", lambda _: percent_encode(model_id), template)
        query = ""
    query = query or request.environ.get("QUERY_STRING", "")
    host = request.headers.get("Host", request.host)
    return f"http://{host}{path}" + (f"?{query}" if query else "")


def _with_request_id(response: Response, request_id: str) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


class FixedResponse:
    """A finished answer, status, headers and body known up front, as a WSGI application.

    The model's answers take this path; werkzeug's ``Response`` spends more on header
    bookkeeping per call than the rest of answering a cached request, and none of it applies
    to a 200 with a known body. Headers are the ones (and in the order) werkzeug would send.
    """

    __slots__ = ("body", "headers", "status_code")

    def __init__(self, body: bytes, status_code: int, headers: list[tuple[str, str]]) -> None:
        self.body = body
        self.status_code = status_code
        self.headers = headers

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        status = HTTPStatus(self.status_code)
        start_response(f"{status.value} {status.phrase}", self.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


def json_response(
    body: bytes, request_id: str, served: list[tuple[str, str]] | None = None
) -> FixedResponse:
    return FixedResponse(body, 200, [
        ("Content-Type", JSON), ("Content-Length", str(len(body))), (REQUEST_ID_HEADER, request_id),
        *(served or ()),
    ])


def error_response(error: BedrockError, request_id: str) -> Response:
    # Compact, as the service writes it: a refusal seen from it measured exactly
    # {"message":"..."} (the Content-Length of aws-samples/amazon-bedrock-client-for-mac
    # issue 121's answer).
    body = json.dumps({"message": error.message}, separators=(",", ":"))
    response = Response(body, status=error.status, content_type=JSON)
    response.headers[ERROR_TYPE_HEADER] = f"{error.code}:{namespace_of(error.code)}"
    for name, value in error.headers.items():
        response.headers[name] = value
    return _with_request_id(response, request_id)


def chunk_events(output: bytes, chunk_length: int) -> list[bytes]:
    """The model's output as ``chunk`` events, each carrying at most ``chunk_length`` bytes."""
    pieces = [output[i : i + chunk_length] for i in range(0, len(output), chunk_length)]
    return [
        eventstream.event(
            "chunk", json.dumps({"bytes": base64.b64encode(piece).decode("ascii")}).encode()
        )
        for piece in pieces or [b""]
    ]


def exception_event(code: str, message: str) -> bytes:
    """An exception event for an error code the stream union allows."""
    member = stream_exception_members()[code]
    return eventstream.exception(member, json.dumps({"message": message}).encode())


def stream_response(
    events: Iterable[bytes],
    request_id: str,
    media_type: str,
    served: list[tuple[str, str]] | None = None,
) -> Response:
    response = Response(events, status=200, content_type=EVENT_STREAM, direct_passthrough=True)
    response.headers[header_name_out(INVOKE_STREAM, "contentType")] = media_type
    for name, value in served or ():
        response.headers[name] = value
    return _with_request_id(response, request_id)


def served_headers(operation: str, served: Mapping[str, str]) -> list[tuple[str, str]]:
    """The answer's headers saying how the call was served (its service tier, its
    latency): each of ``served``'s members the output shape carries as a header."""
    if not served:
        return []
    members = operation_model(operation).output_shape.members
    return [
        (shape.serialization["name"], served[member])
        for member, shape in members.items()
        if member in served and shape.serialization.get("location") == "header"
    ]


@cache
def header_name_out(operation: str, member: str) -> str:
    """The HTTP header an output member travels in."""
    name: str = operation_model(operation).output_shape.members[member].serialization["name"]
    return name
