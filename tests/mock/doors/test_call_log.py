"""``mock-bedrock serve --log-requests`` writes one line a person can read per call: time,
operation, model, status, error code, fault rule fired, request id, milliseconds; over
HTTP/1.1 and HTTP/2 alike, with colour only on a terminal (and never with ``NO_COLOR``)."""

from __future__ import annotations

import json
import os
import pty
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import EventStreamError, HTTPClientError

from mock_bedrock.doors.server import MockServer
from tests.support.served import serving as served_command

BIN = Path(sys.executable).parent
CORE = "stability.stable-image-core-v1:1"
SDXL = "stability.stable-diffusion-xl-v1"
LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (?P<operation>\S+(?: /\S*)?) "
    r"(?P<model>\S+) (?P<status>\d{3}|dropped) (?P<error>\S+) (?P<rules>\S+|\"[^\"]*\") "
    r"(?P<request_id>\S+) (?P<ms>\d+\.\d)ms"
)
FAULTS = [
    {"prompt": "busy", "error": "ThrottlingException"},  # unnamed: #0
    {"prompt": "slow", "latency_ms": 1, "name": "slow-path"},
    {"prompt": "gone", "drop_connection": True},
    {"prompt": "storm", "stream_error": "ModelStreamErrorException", "name": "mid stream"},
]


@contextmanager
def serving(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``mock-bedrock serve --log-requests`` with its stderr in a file (not a terminal)."""
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps(FAULTS))
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr, served_command(
            "--log-requests", "--faults", str(faults), stderr=stderr,
            env={"NO_COLOR": None}) as served:
        assert served.url.startswith("http://127.0.0.1:"), served.url
        yield served.url, log


def client(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def invoke(bedrock: Any, prompt: str, **fields: Any) -> dict[str, Any]:
    """The response metadata, or the error's: either way the request id and status."""
    body = json.dumps({"prompt": prompt, **fields})
    try:
        response = bedrock.invoke_model(modelId=CORE, body=body, contentType="application/json")
    except bedrock.exceptions.ClientError as err:
        return dict(err.response["ResponseMetadata"])
    return dict(response["ResponseMetadata"])


def wait_for_lines(log: Path, count: int) -> list[str]:
    # A line is written once the answer is sent, so it may trail the client's return a little.
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def parsed(line: str) -> dict[str, str]:
    found = LINE.fullmatch(line)
    assert found, f"not a call line: {line!r}"
    return found.groupdict()


def test_one_plain_line_per_call_with_what_the_mock_knew(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, log):
        bedrock = client(url)
        ok = invoke(bedrock, "a lighthouse")
        refused = invoke(bedrock, "a lighthouse", aspect_ratio="7:5")
        throttled = invoke(bedrock, "busy harbour")
        slow = invoke(bedrock, "slow boat")
        with pytest.raises(HTTPClientError):  # the connection is dropped: no answer at all
            invoke(bedrock, "gone fishing")
        with httpx.Client(http1=False, http2=True, timeout=30) as h2:
            over_h2 = h2.post(f"{url}/model/{SDXL}/invoke-with-response-stream",
                              content=json.dumps({"text_prompts": [{"text": "a dune"}]}),
                              headers={"content-type": "application/json"})
        assert over_h2.http_version == "HTTP/2" and over_h2.status_code == 200
        urllib.request.urlopen(f"{url}/_mock/health", timeout=10).read()
        stream = bedrock.invoke_model_with_response_stream(
            modelId=SDXL, body=json.dumps({"text_prompts": [{"text": "storm"}]}))
        with pytest.raises(EventStreamError, match="modelStreamErrorException"):
            list(stream["body"])
        lines = wait_for_lines(log, 9)
        text = log.read_text()

    assert "\x1b" not in text  # a file gets no escape codes
    # SDXL is past its end of life, served because the server has no date: its first call
    # is followed by one warning line, and its second by none.
    warnings = [line for line in lines if " warning: " in line]
    assert len(warnings) == 1, lines
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}} warning: {SDXL} reached its end of life "
        rf"on 2025-05-20: Bedrock refuses it, and this call was answered only because the "
        rf"mock's date allows it; move to {re.escape(CORE)}", warnings[0])
    # Nothing else but call lines (no werkzeug's).
    calls = [parsed(line) for line in lines if line not in warnings]
    assert len(calls) == 8
    # A line is written when its answer has gone, so calls on different connections may
    # be logged out of order: each is found by its request id (or what else marks it).
    by_id = {call["request_id"]: call for call in calls}
    first = by_id[ok["RequestId"]]
    assert (first["operation"], first["model"], first["status"], first["error"],
            first["rules"]) == ("InvokeModel", CORE, "200", "-", "-")
    second = by_id[refused["RequestId"]]
    assert (second["status"], second["error"]) == ("400", "ValidationException")
    third = by_id[throttled["RequestId"]]
    assert (third["status"], third["error"], third["rules"]) == (
        "429", "ThrottlingException", "#0")
    fourth = by_id[slow["RequestId"]]
    assert (fourth["status"], fourth["rules"]) == ("200", "slow-path")
    assert float(fourth["ms"]) >= 1.0  # the rule's latency is inside the call's time
    (fifth,) = (call for call in calls if call["status"] == "dropped")
    assert (fifth["operation"], fifth["rules"]) == ("InvokeModel", "#2")
    sixth = by_id[over_h2.headers["x-amzn-requestid"]]
    assert (sixth["operation"], sixth["model"], sixth["status"]) == (
        "InvokeModelWithResponseStream", SDXL, "200")
    (seventh,) = (call for call in calls if call["operation"] == "GET /_mock/health")
    assert (seventh["model"], seventh["status"], seventh["error"]) == ("-", "200", "-")
    # An error inside a 200 stream is named; a rule's name with a space stays one field.
    eighth = by_id[stream["ResponseMetadata"]["RequestId"]]
    assert (eighth["status"], eighth["error"], eighth["rules"]) == (
        "200", "ModelStreamErrorException", '"mid stream"')


@contextmanager
def stderr_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """sys.stderr is a real pseudo-terminal for the block; yields what arrived on it."""
    controller, terminal = pty.openpty()
    received: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # the terminal side closed
                return
            if not data:
                return
            received.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stream = os.fdopen(terminal, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        yield received
    finally:
        monkeypatch.undo()
        stream.close()
        reader.join(timeout=10)
        os.close(controller)


def refuse_one(url: str) -> None:
    request = urllib.request.Request(f"{url}/model/{CORE}/invoke", data=b'{"seed": 1}',
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400


def wait_for(received: list[bytes], text: bytes) -> bytes:
    deadline = time.monotonic() + 10
    while text not in b"".join(received) and time.monotonic() < deadline:
        time.sleep(0.05)
    return b"".join(received)


def test_on_a_terminal_the_status_is_coloured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    with (stderr_on_a_terminal(monkeypatch) as received,
          MockServer(log_requests=True) as server):
        refuse_one(server.endpoint_url)
        shown = wait_for(received, b"ms")
    assert b"\x1b[33m400\x1b[0m" in shown
    assert b"\x1b[33mValidationException\x1b[0m" in shown


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    with (stderr_on_a_terminal(monkeypatch) as received,
          MockServer(log_requests=True) as server):
        refuse_one(server.endpoint_url)
        shown = wait_for(received, b"ms")
    assert b" 400 ValidationException " in shown
    assert b"\x1b" not in shown
