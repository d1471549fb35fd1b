"""Fuzzing the mock through both doors (real boto3) and over raw HTTP.

Bodies are arbitrary JSON, valid bodies built from the request schema and then mutated
(keys dropped, replaced and added, types changed, numbers pushed past their bounds), and
arbitrary bytes; Content-Type and Accept take arbitrary values. Whatever arrives:

- no answer is a 5xx unless a fault rule asked for one;
- every refusal parses in botocore as a ClientError with the model's code and a message,
  ValidationException for bodies, worded exactly as ``sdxl.check_request`` words it;
- the verdict agrees with the reference validator (``sdxl.request_validator``,
  pure-Python jsonschema, not the fast validator the mock's hot path uses);
- the door still answers a valid request after each test's examples.

``SDXL_FUZZ_EXAMPLES`` sets hypothesis' examples per test (the long mode sets it high);
tests/mock/models/test_fuzz_live_families.py does the same for every live model family.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.parsers import RestJSONParser
from hypothesis import assume, event, example, given, strategies as st
from hypothesis.control import currently_in_test_context
from PIL import Image

from bedrock_contract.dialect import required_with
from mock_bedrock.doors.inprocess import mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.admin import PREFIX as ADMIN_PREFIX
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.errors import (
    FRAMEWORK_ERRORS,
    INVOKE,
    INVOKE_STREAM,
    error_statuses,
    operation_errors,
    operation_model,
    status_of,
)
from mock_bedrock.service.faults import FaultRule
from mock_bedrock.service.wire import ACCEPT_REFUSED, CONTENT_TYPE_REFUSED
from tests.support import sdxl_contract as sdxl
from tests.support.fuzz_values import (
    FUZZ,
    Answer,
    invoke,
    json_values,
    other_type,
    past_bounds,
    value_for,
)
from tests.support.sdxl_contract import MODEL_ID as SDXL_V1, request_validator

# One attempt: a 5xx must be seen, not retried away.
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                     read_timeout=30)
JSON = "application/json"
_SESSION = boto3.session.Session()

SCHEMA = sdxl.request_schema()
FIELDS: dict[str, dict[str, Any]] = SCHEMA["properties"]
IMAGE_FIELDS = tuple(name for name, rule in FIELDS.items() if "contentEncoding" in rule)
SIZE_FIELDS = ("width", "height")
# Fields that need another field present (init_image, ...), and the image fields: only the
# image-to-image bodies carry them.
IMAGE_SHAPE_FIELDS = set(required_with(SCHEMA)) | set(IMAGE_FIELDS)
TEXT_FIELDS = [n for n in FIELDS if n not in IMAGE_SHAPE_FIELDS and n not in SIZE_FIELDS]


# --- request bodies ----------------------------------------------------------------------

def _png(size: tuple[int, int], mode: str = "RGBA", fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new(mode, size, (90, 140, 200, 128) if mode == "RGBA" else 255).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


SIZES = sdxl.allowed_sizes()
OTHER_SIZE = next(size for size in SIZES if size != sdxl.DEFAULT_SIZE)
GOOD_IMAGE = _png(sdxl.DEFAULT_SIZE)
# Image field values: good ones, and each way an image can be wrong.
IMAGE_VALUES = st.sampled_from([
    GOOD_IMAGE,
    _png(sdxl.DEFAULT_SIZE, "L"),  # no alpha: a mask, or an init image without one
    _png(OTHER_SIZE, "RGB"),  # allowed size, but not the other image's
    _png((64, 64)),  # a size that is not allowed
    _png(sdxl.DEFAULT_SIZE, "RGB", "GIF"),
    base64.b64encode(b"not an image at all").decode(),
    "%%% not base64 %%%",
    "",
])


@st.composite
def text_to_image(draw: st.DrawFn) -> dict[str, Any]:
    """A text-to-image body the schema allows."""
    body: dict[str, Any] = draw(st.fixed_dictionaries(
        {"text_prompts": value_for(FIELDS["text_prompts"])},
        optional={name: value_for(FIELDS[name]) for name in TEXT_FIELDS if name != "text_prompts"},
    ))
    size = dict(zip(SIZE_FIELDS, draw(st.sampled_from(SIZES)), strict=True))
    # A side equal to its default may be left out; the size rule then reads the default.
    for name in SIZE_FIELDS:
        if size[name] != FIELDS[name]["default"] or draw(st.booleans()):
            body[name] = size[name]
    return body


@st.composite
def image_to_image(draw: st.DrawFn) -> dict[str, Any]:
    """An image-to-image or masking body: often valid, sometimes not (the dependencies
    between its fields are left to chance)."""
    body: dict[str, Any] = draw(st.fixed_dictionaries(
        {"text_prompts": value_for(FIELDS["text_prompts"]), "init_image": IMAGE_VALUES},
        optional={name: IMAGE_VALUES if name in IMAGE_FIELDS else value_for(FIELDS[name])
                  for name in sorted(IMAGE_SHAPE_FIELDS) if name != "init_image"},
    ))
    body.update(draw(st.fixed_dictionaries({}, optional={
        name: value_for(FIELDS[name]) for name in TEXT_FIELDS if name != "text_prompts"})))
    return body


BOUNDED = [name for name, rule in FIELDS.items()
           if {"minimum", "maximum", "maxLength"} & set(rule)]
PROMPT_RULE = FIELDS["text_prompts"]["items"]


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A body from ``base`` with up to three mutations."""
    body = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["drop", "replace", "add", "bound", "retype", "prompt",
                                    "size"]))
        event(f"mutation: {how}")
        keys = sorted(body)
        if how == "drop" and keys:
            del body[draw(st.sampled_from(keys))]
        elif how == "replace" and keys:
            body[draw(st.sampled_from(keys))] = draw(json_values)
        elif how == "add":
            key = draw(st.sampled_from(list(FIELDS)) | st.text(max_size=12))
            body[key] = draw(value_for(FIELDS[key]) if key in FIELDS else json_values)
        elif how == "bound":
            name = draw(st.sampled_from(BOUNDED))
            body[name] = draw(st.sampled_from(past_bounds(FIELDS[name])))
        elif how == "retype" and keys:
            key = draw(st.sampled_from(keys))
            body[key] = draw(st.sampled_from(other_type(body[key])))
        elif how == "prompt":
            body["text_prompts"] = draw(st.sampled_from([
                [], "a bare string", [{}], [{"text": "x", "extra": 1}],
                [{"text": "x", "weight": "heavy"}], [{"text": None}],
                [{"text": value} for value in past_bounds(PROMPT_RULE["properties"]["text"])],
                [{"text": "x"}] * 50,
            ]))
        elif how == "size":
            first, second = draw(st.sampled_from(SIZES)), draw(st.sampled_from(SIZES))
            body.update(dict(zip(SIZE_FIELDS, (first[0], second[1]), strict=True)))
            if draw(st.booleans()):
                del body[draw(st.sampled_from(SIZE_FIELDS))]
    return body


valid_or_mutated = mutated(text_to_image() | image_to_image())


@st.composite
def odd_bytes(draw: st.DrawFn) -> bytes:
    """Bytes that are rarely JSON: random, truncated or damaged JSON, other encodings."""
    text = json.dumps(draw(text_to_image()))
    return draw(st.sampled_from([
        draw(st.binary(max_size=200)),
        text[: draw(st.integers(0, len(text)))].encode(),
        text.encode("utf-16"),
        b"\xef\xbb\xbf" + text.encode(),  # a byte order mark
        text.replace("}", "", 1).encode(),
        text.encode() + draw(st.binary(min_size=1, max_size=8)),
        draw(st.text(max_size=100)).encode("utf-8", "surrogatepass"),
    ]))


# --- verdicts ------------------------------------------------------------------------------


def reference_verdict(raw: bytes) -> bool | None:
    """The reference validator's verdict on a JSON body; None when ``raw`` is not JSON."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_not_json,
                          object_pairs_hook=_unique_keys)
    except ValueError:  # also UnicodeDecodeError
        return None
    return bool(request_validator().is_valid(body))


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a repeated key")  # org.json, which the service parses with, refuses it
    return dict(pairs)


def local_refusal(raw: bytes) -> sdxl.InvalidRequestBody | None:
    """What the schema package itself says of the body (what the adapter would say)."""
    try:
        sdxl.check_request(raw)
    except sdxl.InvalidRequestBody as refusal:
        return refusal
    return None


def check_body_verdict(answer: Answer, raw: bytes) -> None:
    """The answer agrees with the reference validator and words refusals as the schema
    package does."""
    assert answer.status < 500, f"{answer.status} {answer.code}: {answer.message}"
    refusal = local_refusal(raw)
    reference = reference_verdict(raw)
    if currently_in_test_context():
        event(f"reference verdict: {reference}")
    if reference is False or reference is None:
        assert refusal is not None
    if refusal is None:
        assert answer.code is None, f"{answer.code}: {answer.message}"
        body = sdxl.check_response(answer.payload)
        artifact = body["artifacts"][0]
        image = Image.open(io.BytesIO(base64.b64decode(artifact["base64"])))
        request = json.loads(raw)
        wanted = (Image.open(io.BytesIO(base64.b64decode(request["init_image"]))).size
                  if "init_image" in request else sdxl.size_of(request))
        assert image.size == tuple(wanted)
        return
    if reference:  # the schema allows it, so only an image can be at fault
        assert {v.pointer for v in refusal.violations} <= {f"#/{n}" for n in IMAGE_FIELDS}
    assert (answer.code, answer.status) == ("ValidationException", 400)
    assert answer.message == refusal.message


# --- the doors -----------------------------------------------------------------------------


@dataclass
class Door:
    name: str
    app: MockBedrock
    client: Any

    def call(self, raw: bytes, *, stream: bool = False, content_type: str = JSON,
             accept: str = JSON) -> Answer:
        args = {"modelId": SDXL_V1, "body": raw, "contentType": content_type, "accept": accept}
        return invoke(self.client, args, stream)


def _client(endpoint_url: str | None) -> Any:
    extra = {} if endpoint_url is None else {"endpoint_url": endpoint_url}
    return _SESSION.client("bedrock-runtime", region_name="us-east-1",
                           aws_access_key_id="fuzz", aws_secret_access_key="fuzz",
                           config=ONE_ATTEMPT, **extra)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(scope="module")
def inprocess_app() -> MockBedrock:
    return MockBedrock()


SAMPLE = json.dumps({"text_prompts": [{"text": "still answering"}], "seed": 7}).encode()


def assert_still_answers(door: Door) -> None:
    answer = door.call(SAMPLE)
    assert answer.code is None, f"{answer.code}: {answer.message}"
    sdxl.check_response(answer.payload)


@pytest.fixture(params=["inprocess", "server"])
def door(request: pytest.FixtureRequest, inprocess_app: MockBedrock) -> Iterator[Door]:
    if request.param == "inprocess":
        with mock_sdxl(inprocess_app):
            made = Door("inprocess", inprocess_app, _client(None))
            yield from _checked(made)
    else:
        running: MockServer = request.getfixturevalue("server")
        yield from _checked(Door("server", running.app, _client(running.endpoint_url)))


def _checked(door: Door) -> Iterator[Door]:
    door.app.faults.clear()
    door.app.journal.clear()
    yield door
    door.app.faults.clear()
    assert_still_answers(door)
    door.app.journal.clear()
    door.client.close()


# --- bodies through boto3 -------------------------------------------------------------------


@FUZZ
@given(body=json_values, stream=st.booleans())
def test_arbitrary_json(door: Door, body: Any, stream: bool) -> None:
    raw = json.dumps(body).encode()
    check_body_verdict(door.call(raw, stream=stream), raw)


@FUZZ
@given(body=valid_or_mutated, stream=st.booleans())
def test_mutated_valid_bodies(door: Door, body: dict[str, Any], stream: bool) -> None:
    raw = json.dumps(body).encode()
    check_body_verdict(door.call(raw, stream=stream), raw)


@FUZZ
@given(body=text_to_image(), stream=st.booleans())
def test_every_body_the_schema_allows_is_answered_with_its_image(
    door: Door, body: dict[str, Any], stream: bool
) -> None:
    raw = json.dumps(body).encode()
    assert reference_verdict(raw) is True
    check_body_verdict(door.call(raw, stream=stream), raw)


@FUZZ
@given(raw=odd_bytes(), stream=st.booleans())
def test_arbitrary_bytes(door: Door, raw: bytes, stream: bool) -> None:
    check_body_verdict(door.call(raw, stream=stream), raw)


media_types = st.sampled_from([
    JSON, "APPLICATION/JSON", "application/json; charset=utf-8", "*/*", "application/*",
    "text/plain", "image/png", "application/json;q=0", "text/html, application/json;q=0.1",
]) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=["Cc"]),
             min_size=1, max_size=40)


@FUZZ
@given(body=valid_or_mutated, content_type=media_types, accept=media_types, stream=st.booleans())
def test_arbitrary_media_type_headers(
    door: Door, body: dict[str, Any], content_type: str, accept: str, stream: bool
) -> None:
    raw = json.dumps(body).encode()
    answer = door.call(raw, stream=stream, content_type=content_type, accept=accept)
    assert answer.status < 500, f"{answer.status} {answer.code}: {answer.message}"
    if answer.code is None:
        assert local_refusal(raw) is None
        sdxl.check_response(answer.payload)
        return
    assert (answer.code, answer.status) == ("ValidationException", 400)
    refusal = local_refusal(raw)
    about_headers = answer.message in (CONTENT_TYPE_REFUSED, ACCEPT_REFUSED)
    assert about_headers or (refusal is not None and answer.message == refusal.message)


# The 5xx errors both operations declare (a rule only injects an error its call declares).
FAULT_CODES = sorted(code for code in operation_errors(INVOKE) & operation_errors(INVOKE_STREAM)
                     if error_statuses()[code] >= 500)


@FUZZ
@given(body=valid_or_mutated, stream=st.booleans())
def test_a_5xx_comes_only_from_a_fault_rule(door: Door, body: dict[str, Any],
                                            stream: bool) -> None:
    if not door.app.faults.rules:
        for index, code in enumerate(FAULT_CODES):
            door.app.faults.add(FaultRule(error=code, probability=0.3, seed=index,
                                          name=f"fuzz {code}"))
    raw = json.dumps(body).encode()
    answer = door.call(raw, stream=stream)
    if answer.status >= 500:
        entry = next(e for e in door.app.journal.entries() if e.request_id == answer.request_id)
        assert entry.faults == [f"fuzz {answer.code}"]
        assert answer.status == status_of(str(answer.code))
        return
    check_body_verdict(answer, raw)


# --- found by this file, kept as regressions ---------------------------------------------


def test_integral_float_size_is_refused(door: Door) -> None:
    # org.json reads 1152.0 as a BigDecimal, which everit does not take for an integer.
    raw = b'{"text_prompts": [{"text": "a"}], "width": 1152.0, "height": 896.0}'
    assert reference_verdict(raw) is False
    check_body_verdict(door.call(raw), raw)


def test_deeply_nested_json_is_refused(door: Door) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    answer = door.call(raw)
    assert (answer.code, answer.status) == ("ValidationException", 400)


# --- raw HTTP to the server -----------------------------------------------------------------

model_ids = st.sampled_from([SDXL_V1, f"arn:aws:bedrock:us-east-1::foundation-model/{SDXL_V1}",
                             "stability.stable-diffusion-xl-v0", ""]) | st.text(max_size=30)
operation_paths = st.builds(
    lambda model, tail: f"/model/{quote(model, safe='')}/{tail}", model_ids,
    st.sampled_from(["invoke", "invoke-with-response-stream", "", "invoke/extra"]),
)
# A third each: SDXL's two operations, any model id and operation tail, any path.
paths = st.one_of(
    st.sampled_from([f"/model/{SDXL_V1}/invoke", f"/model/{SDXL_V1}/invoke-with-response-stream"]),
    operation_paths,
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40).map(
        lambda text: "/" + text
    ),
)
methods = st.one_of(  # half of them the operations' method
    st.just("POST"),
    st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "post"])
    | st.from_regex(r"[A-Z]{1,12}", fullmatch=True),
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                      exclude_categories=["Cc"]), max_size=60)
HEADER_NAMES = ["Content-Type", "Accept", "X-Amzn-Bedrock-Accept", "Authorization",
                "X-Amz-Date", "Expect", "Connection"]
bodies = st.one_of(
    valid_or_mutated.map(lambda body: json.dumps(body).encode()), odd_bytes(),
)
_PARSER = RestJSONParser()
KNOWN_CODES = set(error_statuses()) | set(FRAMEWORK_ERRORS)


def _parsed_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The response as botocore parses a Bedrock Runtime error."""
    shape = operation_model(INVOKE).output_shape
    parsed: dict[str, Any] = _PARSER.parse(
        {"status_code": status, "headers": headers, "body": body}, shape
    )
    return parsed


@pytest.fixture
def raw_server(server: MockServer) -> Iterator[MockServer]:
    server.app.faults.clear()
    server.app.journal.clear()
    yield server
    # Everything that reached the app was answered below 500, and a valid request still is.
    assert all((entry.status or 0) < 500 for entry in server.app.journal.entries())
    server.app.journal.clear()
    assert_still_answers(Door("server", server.app, _client(server.endpoint_url)))


@FUZZ
@example(method="POST", path="//_mock/", body=b"{}", headers={})  # found by the long mode
@given(method=methods, path=paths, body=bodies,
       headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=4))
def test_raw_http(raw_server: MockServer, method: str, path: str, body: bytes,
                  headers: dict[str, str]) -> None:
    host, port = raw_server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        try:
            connection.request(method, path, body=body, headers=headers)
        except ValueError:
            assume(False)  # http.client refuses to send it (e.g. a space in the path)
        response = connection.getresponse()
        data = response.read()
        status = response.status
        received = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    event(f"status {status}")
    assert status < 500, f"{status}: {data[:300]!r}"
    if "x-amzn-requestid" not in received:
        # Not a Bedrock answer: the HTTP layer refused a request it could not read.
        assert status == 400
        return
    if status < 400:
        return
    if "x-amzn-errortype" not in received:
        # The mock's own admin endpoints answer plain JSON errors (werkzeug reads "//_mock/"
        # as "/_mock/", so the path only has to contain the prefix).
        assert ADMIN_PREFIX in path, (status, received, data)
        return
    error = _parsed_error(status, received, data)["Error"]
    assert error["Code"] in KNOWN_CODES, error
    assert status_of(error["Code"]) == status
    # A HEAD answer has no body, so no message.
    assert error["Message"] or method == "HEAD", (status, received, data)
