"""InvokeModel: the success body, determinism, the seed rule, validation passthrough,
media types, body limits and failures inside the app."""

from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any

import pytest
from PIL import Image
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from mock_bedrock.engines.sdxl import SdxlEngine, render_png
from mock_bedrock.placeholder import read_parameters
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.wire import ACCEPT_REFUSED, CONTENT_TYPE_REFUSED
from tests.support import sdxl_contract as sdxl
from tests.support.sdxl_contract import field
from tests.support.wsgi_app import SDXL, invoke, model_path, parse, sdxl_body

LIMIT = 25_000_000  # the contract's body limit
TOO_LARGE = (
    "1 validation error detected: Value at 'body' failed to satisfy constraint: "
    "Member must have length less than or equal to 25000000"
)



def artifact(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.data
    body = sdxl.check_response(response.data)
    [only] = body["artifacts"]
    return only


def test_success_body_satisfies_the_response_schema_and_carries_a_png(wsgi: Client) -> None:
    response = invoke(wsgi, sdxl_body(width=1344, height=768))
    assert response.headers["Content-Type"] == "application/json"
    body = sdxl.check_response(response.data)
    assert body["result"] == "success"
    [art] = body["artifacts"]
    assert art["finishReason"] == "SUCCESS"
    image = Image.open(io.BytesIO(base64.b64decode(art["base64"])))
    assert (image.format, image.size) == ("PNG", (1344, 768))


def test_botocore_reads_the_body_and_content_type(wsgi: Client) -> None:
    response = invoke(wsgi)
    parsed = parse(response)
    assert parsed["contentType"] == "application/json"
    assert json.loads(parsed["body"])["artifacts"][0]["finishReason"] == "SUCCESS"


def test_same_request_gives_the_same_bytes_even_from_another_app(wsgi: Client) -> None:
    first = invoke(wsgi, sdxl_body(style_preset="origami"))
    again = invoke(wsgi, sdxl_body(style_preset="origami"))
    elsewhere = invoke(Client(MockBedrock()), sdxl_body(style_preset="origami"))
    assert first.data == again.data == elsewhere.data


def test_an_asked_seed_is_used_and_echoed(wsgi: Client) -> None:
    highest = field("seed")["maximum"]
    for seed in (1, 42, highest):
        art = artifact(invoke(wsgi, sdxl_body(seed=seed)))
        assert art["seed"] == seed
        assert read_parameters(base64.b64decode(art["base64"]))["seed"] == seed


def test_seed_zero_or_absent_gets_the_same_derived_non_zero_seed(wsgi: Client) -> None:
    absent = artifact(invoke(wsgi, sdxl_body()))
    zero = artifact(invoke(wsgi, sdxl_body(seed=0)))
    assert absent["seed"] == zero["seed"]
    assert 1 <= absent["seed"] <= field("seed")["maximum"]


def test_derived_seeds_differ_between_requests(wsgi: Client) -> None:
    seeds = {
        artifact(invoke(wsgi, {"text_prompts": [{"text": f"prompt {n}"}]}))["seed"]
        for n in range(8)
    }
    assert len(seeds) == 8


def test_key_order_does_not_change_the_derived_seed(wsgi: Client) -> None:
    one = '{"text_prompts": [{"text": "fox", "weight": 1}], "steps": 20, "cfg_scale": 5}'
    other = '{"cfg_scale": 5, "steps": 20, "text_prompts": [{"weight": 1, "text": "fox"}]}'
    assert artifact(invoke(wsgi, one))["seed"] == artifact(invoke(wsgi, other))["seed"]


@pytest.mark.parametrize(
    "body",
    [
        {"text_prompts": []},
        {"text_prompts": [{"text": "x"}], "steps": 5, "cfg_scale": 99},
        {"text_prompts": [{"text": "x"}], "width": 1000},
        {"text_prompts": [{"text": "x"}], "samples": 2, "colour": "red"},
        {"prompt": "x"},
        [1, 2],
        "not json at all",
        '{"text_prompts": [{"text": "x"}], "cfg_scale": NaN}',
        b"\xff\xfe",
        b"",
    ],
)
def test_refused_bodies_carry_check_requests_exact_message(wsgi: Client, body: Any) -> None:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    with pytest.raises(sdxl.InvalidRequestBody) as expected:
        sdxl.check_request(raw)
    response = invoke(wsgi, raw)
    assert response.status_code == 400
    error = parse(response)["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", expected.value.message)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json; charset=utf-8"},
        {"Content-Type": "Application/JSON", "Accept": "*/*"},
        {"Accept": "application/*"},
        {"Accept": "image/png, application/json;q=0.5"},
    ],
)
def test_json_content_and_accept_types_are_served(wsgi: Client, headers: dict) -> None:
    assert invoke(wsgi, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "text/plain"}, CONTENT_TYPE_REFUSED),
        ({"Content-Type": "application/x-www-form-urlencoded"}, CONTENT_TYPE_REFUSED),
        ({"Content-Type": "application/octet-stream"}, CONTENT_TYPE_REFUSED),
        ({"Accept": "image/png"}, ACCEPT_REFUSED),
        ({"Accept": "application/json;q=0"}, ACCEPT_REFUSED),
    ],
)
def test_other_media_types_are_refused(wsgi: Client, headers: dict, message: str) -> None:
    response = invoke(wsgi, headers=headers)
    assert response.status_code == 400
    error = parse(response)["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", message)


def test_stream_checks_x_amzn_bedrock_accept_not_accept(wsgi: Client) -> None:
    refused = invoke(wsgi, stream=True, headers={"X-Amzn-Bedrock-Accept": "image/png"})
    assert refused.status_code == 400
    assert refused.json["message"] == ACCEPT_REFUSED
    # The stream's answer is an event stream whatever plain Accept says.
    served = invoke(wsgi, stream=True, headers={"Accept": "application/vnd.amazon.eventstream"})
    assert served.status_code == 200


class _Unreadable(io.RawIOBase):
    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


def test_oversized_content_length_is_refused_before_reading(app: MockBedrock) -> None:
    environ = EnvironBuilder(path=model_path(), method="POST").get_environ()
    environ.update(CONTENT_LENGTH=str(LIMIT + 1), CONTENT_TYPE="application/json")
    environ["wsgi.input"] = _Unreadable()
    body, status, headers = run_wsgi_app(app, environ)
    assert status.startswith("400")
    assert json.loads(b"".join(body)) == {"message": TOO_LARGE}
    assert headers["x-amzn-ErrorType"].startswith("ValidationException:")


class _Endless(io.RawIOBase):
    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.served > 4 * LIMIT:  # a safety stop so that a failing test cannot hang
            return 0
        buffer[:] = b" " * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def test_chunked_body_is_read_only_up_to_the_limit(app: MockBedrock) -> None:
    environ = EnvironBuilder(path=model_path(), method="POST").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    stream = _Endless()
    environ.update(
        HTTP_TRANSFER_ENCODING="chunked", CONTENT_TYPE="application/json",
        **{"wsgi.input": io.BufferedReader(stream), "wsgi.input_terminated": True},
    )
    body, status, _ = run_wsgi_app(app, environ)
    assert status.startswith("400")
    assert json.loads(b"".join(body)) == {"message": TOO_LARGE}
    assert stream.served <= LIMIT + 1_000_000


def test_a_body_of_exactly_the_limit_is_accepted(wsgi: Client) -> None:
    compact = json.dumps(sdxl_body()).encode()
    padded = compact[:-1] + b" " * (LIMIT - len(compact)) + b"}"
    assert len(padded) == LIMIT
    assert invoke(wsgi, padded).status_code == 200


def test_an_exception_in_the_engine_is_a_logged_500_and_the_app_keeps_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def render_failing_once(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("renderer exploded")
        return render_png(*args, **kwargs)

    app = MockBedrock(engine=SdxlEngine(render=render_failing_once))
    wsgi = Client(app)
    with caplog.at_level(logging.ERROR, logger="mock_bedrock"):
        failed = invoke(wsgi)
    assert failed.status_code == 500
    error = parse(failed)["Error"]
    assert error["Code"] == "InternalServerException"
    assert "renderer exploded" not in error["Message"]  # internals stay in the log
    assert "renderer exploded" in caplog.text
    assert failed.headers["x-amzn-RequestId"] in caplog.text
    assert invoke(wsgi).status_code == 200
    assert [e.status for e in app.journal.entries()] == [500, 200]


def test_journal_records_a_served_call(app: MockBedrock, wsgi: Client) -> None:
    response = invoke(wsgi, sdxl_body(seed=7), headers={
        "Content-Type": "application/json", "Accept": "*/*", "User-Agent": "tests/1.0",
    })
    [entry] = app.journal.entries()
    assert entry.operation == "InvokeModel"
    assert entry.model_id == SDXL
    assert entry.body == sdxl_body(seed=7)
    assert entry.headers == {
        "content-type": "application/json", "accept": "*/*", "user-agent": "tests/1.0",
    }
    assert (entry.status, entry.outcome, entry.seed) == (200, "SUCCESS", 7)
    assert entry.request_id == response.headers["x-amzn-RequestId"]


def test_journal_keeps_refused_bodies_parsed_or_as_text(app: MockBedrock, wsgi: Client) -> None:
    invoke(wsgi, {"text_prompts": []})
    invoke(wsgi, "plain words")
    invoke(wsgi, model_id="x.y-v1")
    first, second, third = app.journal.entries()
    assert (first.body, first.status, first.outcome) == (
        {"text_prompts": []}, 400, "ValidationException",
    )
    assert second.body == "plain words"
    assert third.body == sdxl_body()
    assert third.seed is None
