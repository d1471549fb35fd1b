"""InvokeModelWithResponseStream: event-stream framing checked with botocore's decoder,
chunk splitting, and exception events mid-stream."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import EventStreamError
from werkzeug.test import Client

from mock_bedrock.engines.sdxl import SdxlEngine
from mock_bedrock.service import eventstream
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.errors import stream_exception_members
from mock_bedrock.service.faults import FaultRule
from tests.support.wsgi_app import (
    RawStream,
    boto3_client,
    invoke,
    lazy_stream_events,
    parse,
    sdxl_body,
    stream_events,
)

MAX_CHUNK = 1_000_000  # the contract: each chunk's bytes at most 1,000,000


def decode(data: bytes) -> list[Any]:
    buffer = EventStreamBuffer()
    for piece in RawStream(data, piece=5 if len(data) < 100_000 else 4099).stream():
        buffer.add_data(piece)
    return list(buffer)


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({}, b""),
        ({":event-type": "chunk"}, b'{"bytes": "aGk="}'),
        ({"a": "", "ünïcode-näme": "välue ✓", "long": "x" * 40_000}, bytes(range(256)) * 64),
    ],
)
def test_encoder_output_is_read_back_by_botocores_decoder(
    headers: dict[str, str], payload: bytes
) -> None:
    [message] = decode(eventstream.encode_message(headers, payload))
    assert message.headers == headers
    assert message.payload == payload


def test_decoder_checks_our_crcs() -> None:
    framed = bytearray(eventstream.event("chunk", b'{"bytes": ""}'))
    framed[-6] ^= 0xFF  # a payload byte: the message CRC no longer holds
    with pytest.raises(ChecksumMismatch):
        decode(bytes(framed))


def test_several_messages_in_one_stream_decode_in_order() -> None:
    data = b"".join(eventstream.event("chunk", str(n).encode()) for n in range(5))
    assert [m.payload for m in decode(data)] == [b"0", b"1", b"2", b"3", b"4"]


def chunk_bytes(events: list[dict[str, Any]]) -> list[bytes]:
    assert all(list(event) == ["chunk"] for event in events)
    return [event["chunk"]["bytes"] for event in events]


def test_stream_carries_the_invoke_output_with_the_right_headers() -> None:
    client = Client(MockBedrock())
    response = invoke(client, sdxl_body(seed=5), stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.amazon.eventstream"
    parsed = parse(response, "InvokeModelWithResponseStream")
    assert parsed["contentType"] == "application/json"
    output = b"".join(chunk_bytes(stream_events(response)))
    assert output == invoke(client, sdxl_body(seed=5)).data


def test_output_is_split_into_chunks_no_larger_than_asked() -> None:
    client = Client(MockBedrock(stream_chunk_length=10_000))
    pieces = chunk_bytes(stream_events(invoke(client, stream=True)))
    assert len(pieces) > 2
    assert all(len(piece) <= 10_000 for piece in pieces)
    assert all(len(piece) == 10_000 for piece in pieces[:-1])
    assert b"".join(pieces) == invoke(client).data


def test_default_chunks_stay_within_the_services_maximum() -> None:
    def big_render(*args: Any, **kwargs: Any) -> bytes:
        return bytes(range(256)) * 10_000  # 2.56 MB, 3.4 MB of base64 output

    client = Client(MockBedrock(engine=SdxlEngine(render=big_render)))
    pieces = chunk_bytes(stream_events(invoke(client, stream=True)))
    assert [len(p) for p in pieces[:-1]] == [MAX_CHUNK] * (len(pieces) - 1)
    assert len(pieces) == 4
    assert json.loads(b"".join(pieces))["artifacts"][0]["finishReason"] == "SUCCESS"


def test_chunk_length_beyond_the_services_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="stream_chunk_length"):
        MockBedrock(stream_chunk_length=MAX_CHUNK + 1)


def test_errors_before_the_stream_are_plain_http_errors() -> None:
    response = invoke(Client(MockBedrock()), {"text_prompts": []}, stream=True)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert parse(response, "InvokeModelWithResponseStream")["Error"]["Code"] == (
        "ValidationException"
    )


@pytest.mark.parametrize("code", sorted(stream_exception_members()))
def test_a_stream_error_fault_arrives_as_an_exception_event_after_the_first_chunk(
    code: str,
) -> None:
    app = MockBedrock(
        faults=[FaultRule(stream_error=code, message="went wrong")], stream_chunk_length=5_000
    )
    response = invoke(Client(app), stream=True)
    assert response.status_code == 200
    received = []
    with pytest.raises(EventStreamError) as caught:
        for event in lazy_stream_events(response):
            received.append(event)
    assert len(received) == 1 and "chunk" in received[0]
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (stream_exception_members()[code], "went wrong")
    assert app.journal.entries()[-1].outcome == code


def test_the_exception_type_header_names_the_union_member() -> None:
    app = MockBedrock(faults=[FaultRule(stream_error="ModelStreamErrorException")])
    messages = decode(invoke(Client(app), stream=True).data)
    assert messages[-1].headers[":message-type"] == "exception"
    assert messages[-1].headers[":exception-type"] == "modelStreamErrorException"
    assert json.loads(messages[-1].payload)["message"]


def test_boto3_reads_the_stream_and_raises_the_stream_error() -> None:
    app = MockBedrock(stream_chunk_length=20_000)
    client = boto3_client(app)
    answer = client.invoke_model_with_response_stream(
        modelId="stability.stable-diffusion-xl-v1", body=json.dumps(sdxl_body(seed=11))
    )
    output = b"".join(event["chunk"]["bytes"] for event in answer["body"])
    assert json.loads(output)["artifacts"][0]["seed"] == 11

    app.faults.add(FaultRule(stream_error="modelTimeoutException"))
    answer = client.invoke_model_with_response_stream(
        modelId="stability.stable-diffusion-xl-v1", body=json.dumps(sdxl_body(seed=11))
    )
    with pytest.raises(EventStreamError, match="modelTimeoutException"):
        list(answer["body"])
