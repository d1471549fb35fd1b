"""Helpers for the mock app's unit tests: drive the WSGI app with werkzeug's test client and
read its answers the way botocore reads them. (No tests here.)"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.awsrequest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.eventstream import EventStream
from botocore.parsers import EventStreamJSONParser, create_parser
from botocore.utils import percent_encode
from urllib3 import HTTPResponse
from werkzeug.test import Client, TestResponse

from mock_bedrock.service.errors import INVOKE, INVOKE_STREAM, operation_model

SDXL = "stability.stable-diffusion-xl-v1"
SDXL_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{SDXL}"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def sdxl_body(**fields: Any) -> dict[str, Any]:
    return {"text_prompts": [{"text": "a lighthouse at dusk"}], **fields}


def model_path(model_id: str = SDXL, *, stream: bool = False) -> str:
    """The path botocore sends: the model id percent-encoded as one segment."""
    suffix = "invoke-with-response-stream" if stream else "invoke"
    return f"/model/{percent_encode(model_id)}/{suffix}"


def invoke(
    client: Client,
    body: Any = None,
    *,
    model_id: str = SDXL,
    stream: bool = False,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body or sdxl_body())
    sent = JSON_HEADERS if headers is None else headers
    return client.post(model_path(model_id, stream=stream), data=data, headers=sent)


class RawStream:
    """Stands in for urllib3's response: botocore's EventStream reads ``.stream()``; pieces
    that do not line up with messages make its decoder buffer across boundaries."""

    def __init__(self, data: bytes, piece: int = 4099) -> None:
        self._data, self._piece = data, piece

    def stream(self) -> Iterator[bytes]:
        for i in range(0, len(self._data), self._piece):
            yield self._data[i : i + self._piece]

    def close(self) -> None:
        pass


def parse(response: TestResponse, operation: str = INVOKE) -> dict[str, Any]:
    """The response as botocore's rest-json parser reads it (errors under ``Error``)."""
    op = operation_model(operation)
    headers = HeadersDict(dict(response.headers))
    ok = response.status_code < 300
    body: Any = RawStream(response.data) if ok and operation == INVOKE_STREAM else response.data
    parsed: dict[str, Any] = create_parser("rest-json").parse(
        {"status_code": response.status_code, "headers": headers, "body": body,
         "context": {"operation_name": operation}},
        op.output_shape if ok else None,
    )
    return parsed


def stream_events(response: TestResponse) -> list[dict[str, Any]]:
    """Every event of a stream response, decoded by botocore (raises EventStreamError)."""
    return list(lazy_stream_events(response))


def lazy_stream_events(response: TestResponse) -> EventStream:
    """botocore's EventStream over a stream response, read as iterated."""
    op = operation_model(INVOKE_STREAM)
    return EventStream(
        RawStream(response.data),
        op.output_shape.members["body"],
        EventStreamJSONParser(),
        INVOKE_STREAM,
    )


def boto3_client(app: Any, *, access_key: str = "AKIDEXAMPLE", secret: str = "secret") -> Any:
    """A real boto3 bedrock-runtime client whose requests are answered by ``app`` through
    werkzeug's test client: botocore serializes and signs, the app answers."""
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url="http://bedrock.test",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )
    wsgi = Client(app)

    def send(request: botocore.awsrequest.AWSPreparedRequest, **_: Any) -> AWSResponse:
        path = request.url.split("bedrock.test", 1)[1]
        body = request.body if isinstance(request.body, bytes) else (request.body or b"")
        headers = [
            (name, value.decode() if isinstance(value, bytes) else value)
            for name, value in request.headers.items()
        ]
        answer = wsgi.open(
            path, method=request.method, headers=headers, data=body,
            base_url="http://bedrock.test",
        )
        raw = HTTPResponse(
            body=io.BytesIO(answer.data), headers=dict(answer.headers),
            status=answer.status_code, preload_content=False,
        )
        return AWSResponse(request.url, answer.status_code, dict(answer.headers), raw)

    client.meta.events.register("before-send.bedrock-runtime.*", send)
    return client
