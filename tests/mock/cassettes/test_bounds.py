"""Record and replay stay bounded (issue 12): bodies are read up to the service's limit, a
cassette is parsed once, and a cassette file replay cannot use is an error naming it."""

from __future__ import annotations

import json
import logging
import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials
from werkzeug.test import Client, TestResponse

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.wire import max_body_length
from mock_bedrock.testing.cassettes import Cassette, CassetteDir, cassette_key
from mock_bedrock.testing.recorder import recording_app, replaying_app
from tests.support.wsgi_app import SDXL, invoke, parse, sdxl_body

UNREADABLE = "CassetteUnreadableException"


def body_bytes(**fields: Any) -> bytes:
    return json.dumps(sdxl_body(**fields)).encode()


def cassette_path(directory: Path, body: bytes) -> Path:
    return CassetteDir(directory).file_for(cassette_key("InvokeModel", SDXL, body))


def error_of(response: TestResponse) -> dict[str, Any]:
    error: dict[str, Any] = parse(response)["Error"]
    return error


def test_replay_refuses_a_body_over_the_service_limit(tmp_path: Path) -> None:
    # Refused as the service refuses it, not read whole and then missed.
    answer = invoke(Client(replaying_app(tmp_path)), b"x" * (max_body_length() + 1))
    assert answer.status_code == 400
    assert error_of(answer)["Code"] == "ValidationException"
    assert f"less than or equal to {max_body_length()}" in error_of(answer)["Message"]


def test_recording_refuses_a_body_over_the_service_limit_without_forwarding(
    tmp_path: Path,
) -> None:
    # Port 9 (discard) on loopback: forwarding anything would fail with a 502.
    app = recording_app("http://127.0.0.1:9", tmp_path, Credentials("AKIDX", "secret"))
    try:
        answer = invoke(Client(app), b"x" * (max_body_length() + 1))
    finally:
        app.close()
    assert answer.status_code == 400
    assert error_of(answer)["Code"] == "ValidationException"
    assert list(tmp_path.iterdir()) == []


def test_a_cassette_is_parsed_once_not_on_every_call(tmp_path: Path) -> None:
    body = body_bytes(seed=5)
    answer = json.dumps({"x": "A" * 5_000_000}).encode()
    CassetteDir(tmp_path).save(Cassette(
        cassette_key("InvokeModel", SDXL, body), "InvokeModel", SDXL, {}, body, 200,
        [("Content-Type", "application/json")], answer,
    ))
    client = Client(replaying_app(tmp_path))
    assert invoke(client, body).data == answer
    tracemalloc.start()
    try:
        for _ in range(3):
            assert invoke(client, body).data == answer
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Each answer is one copy of the body; parsing the file again would take three more.
    assert peak < 2.5 * len(answer)


def test_a_rewritten_cassette_is_read_again(tmp_path: Path) -> None:
    body = body_bytes(seed=6)
    path = cassette_path(tmp_path, body)
    directory = CassetteDir(tmp_path)
    for text in ('{"a": 1}', '{"a": 22}'):
        directory.save(Cassette(cassette_key("InvokeModel", SDXL, body), "InvokeModel", SDXL,
                                {}, body, 200, [], text.encode()))
        assert path.exists()
        assert invoke(Client(replaying_app(tmp_path)), body).data == text.encode()
    client = Client(replaying_app(tmp_path))
    assert invoke(client, body).data == b'{"a": 22}'


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    body = body_bytes(seed=8)
    path = cassette_path(tmp_path, body)
    tmp_path.mkdir(exist_ok=True)
    os.mkfifo(path)
    yield path, body
    # Should a reader be stuck opening it (the old behaviour), open the other end to free it.
    descriptor = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    os.close(descriptor)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_place_of_a_cassette_is_refused_not_waited_on(
    fifo: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, body = fifo
    answers: list[TestResponse] = []
    thread = threading.Thread(
        target=lambda: answers.append(invoke(Client(replaying_app(tmp_path)), body)),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=30)
    assert answers, "replay was still waiting on the FIFO after 30 s"
    assert answers[0].status_code == 500
    error = error_of(answers[0])
    assert error["Code"] == UNREADABLE
    assert str(path) in error["Message"] and "not a regular file" in error["Message"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"format": 1, "key', "not valid JSON"),
        (json.dumps({"format": 1, "request": {}, "response": {"status": "x"}}), "status 'x'"),
        (json.dumps({"format": 1}), "no 'request' field"),
        ("[]", "a JSON object"),
    ],
)
def test_a_tampered_cassette_is_a_500_naming_the_file_without_a_traceback(
    tmp_path: Path, text: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = body_bytes(seed=9)
    path = cassette_path(tmp_path, body)
    tmp_path.mkdir(exist_ok=True)
    path.write_text(text)
    with caplog.at_level(logging.ERROR, logger="mock_bedrock"):
        answer = invoke(Client(replaying_app(tmp_path, fallthrough=MockBedrock())), body)
    assert answer.status_code == 500
    error = error_of(answer)
    assert error["Code"] == UNREADABLE
    assert str(path) in error["Message"] and why in error["Message"]
    assert "\n" not in error["Message"]
    assert "Traceback" not in caplog.text and str(path) in caplog.text


def test_a_lone_surrogate_in_a_recorded_request_is_stored_escaped(tmp_path: Path) -> None:
    # A refused body (the upstream answers 400, which is recorded) whose prompt holds a lone
    # surrogate: the cassette cannot be UTF-8 with it raw, so it keeps the escape.
    body = b'{"text_prompts": [{"text": "a \\ud800 fox"}], "no_such_field": 1}'
    with MockServer(app=MockBedrock()) as upstream:
        app = recording_app(upstream.endpoint_url, tmp_path, Credentials("AKIDX", "secret"))
        try:
            recorded = invoke(Client(app), body)
        finally:
            app.close()
    assert recorded.status_code == 400
    [path] = tmp_path.glob("*.json")
    assert "\\ud800" in path.read_text(encoding="utf-8")
    replayed = invoke(Client(replaying_app(tmp_path)), body)
    assert (replayed.status_code, replayed.data) == (400, recorded.data)
