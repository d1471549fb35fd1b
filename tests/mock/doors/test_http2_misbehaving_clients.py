"""The HTTP/2 door against clients that misbehave on purpose (issue 12): bodies past the
limit or pushed ahead of the app, rapid resets (CVE-2023-44487), streams that stall either
way, a client that never reads, and a stop with streams queued. The attacker is the h2
library on a real socket; a normal boto3 call (HTTP/1.1) must be answered all along."""

from __future__ import annotations

import contextlib
import gc
import http.client
import json
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import pytest
from botocore.config import Config
from werkzeug.wrappers import Request, Response

from mock_bedrock.doors import http2_limits as limits, server as door
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import CLIENT_DISCONNECTED, MockBedrock
from mock_bedrock.service.wire import max_body_length
from tests.mock.doors.calls import BODY, INVOKE_PATH, MODEL_ID, address
from tests.mock.doors.h2_client import Attacker, ErrorCodes

GATE_PATH = "/gate"  # where a test's own app answers (the mock answers everything else)
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def answers_normally(server: MockServer) -> None:
    """A normal call from another client, over HTTP/1.1, is answered."""
    client = boto3.session.Session().client(
        "bedrock-runtime", endpoint_url=server.endpoint_url, region_name="us-east-1",
        aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=5, read_timeout=10))
    answer = json.loads(client.invoke_model(body=BODY, modelId=MODEL_ID)["body"].read())
    assert answer["artifacts"][0]["seed"] == 11


@pytest.fixture
def attacker_of() -> Iterator[Callable[..., Attacker]]:
    made: list[Attacker] = []

    def make(server: MockServer, **options: Any) -> Attacker:
        made.append(Attacker(server, **options))
        return made[-1]

    yield make
    for attacker in made:
        attacker.close()


class Gate:
    """The mock, and at GATE_PATH an app that counts its calls, holds each until the gate
    opens (or ``hold`` seconds), then answers ``answer`` (or the length of the body read)."""

    def __init__(self, *, hold: float = 10, answer: bytes | None = None,
                 read_body: bool = True) -> None:
        self.calls = 0
        self.opened = threading.Event()
        self._hold, self._answer, self._read = hold, answer, read_body
        self._lock = threading.Lock()
        self._mock = MockBedrock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] != GATE_PATH:
            return self._mock(environ, start_response)
        with self._lock:
            self.calls += 1
        self.opened.wait(self._hold)
        body = environ["wsgi.input"].read() if self._read else b""
        start_response("200 OK", [("content-type", "application/octet-stream")])
        return [self._answer if self._answer is not None else str(len(body)).encode()]

    def wait_calls(self, count: int, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while self.calls < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls >= count


def http1_head(length: int, path: str = INVOKE_PATH) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            f"application/json\r\nContent-Length: {length}\r\n\r\n").encode()


# --- bodies -----------------------------------------------------------------------------


def http1_refusal_of_too_long_a_body(server: MockServer) -> tuple[int, str, str]:
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", INVOKE_PATH)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(max_body_length() + 1))
    connection.endheaders()
    response = connection.getresponse()
    refusal = (response.status, response.getheader("x-amzn-ErrorType", ""),
               json.loads(response.read())["message"])
    connection.close()
    return refusal


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_a_body_past_the_limit_is_refused_as_over_http1_and_the_client_told_to_stop(
    declared: bool, server: MockServer, attacker_of: Callable[..., Attacker]
) -> None:
    offered = 2 * max_body_length()
    client = attacker_of(server)
    # Without a Content-Length only the bytes tell; with one the answer comes at once, and
    # the rest of the body is dropped as it comes until it passes the limit.
    stream = client.open(None, length=offered if declared else None)
    sent = client.push(stream, offered, seconds=60)
    assert client.wait_for(lambda: client.answer(stream) is not None)
    status, head, body = client.answer(stream) or (0, {}, b"")
    expected = http1_refusal_of_too_long_a_body(server)
    assert (status, head[b"x-amzn-errortype"].decode(), json.loads(body)["message"]) == expected
    assert expected[0] == 400 and expected[1].startswith("ValidationException")
    # Told to stop (RST_STREAM NO_ERROR after the answer), it sent little past the limit.
    assert client.wait_for(lambda: stream in client.resets(ErrorCodes.NO_ERROR))
    assert sent < offered
    answers_normally(server)


def test_a_client_is_never_more_than_a_window_ahead_of_the_app(
    attacker_of: Callable[..., Attacker]
) -> None:
    gate = Gate()  # reads nothing until the gate opens
    with MockServer(gate) as server:
        client = attacker_of(server)
        stream = client.open(None, path=GATE_PATH)
        total = 4 * 1024 * 1024
        ahead = client.push(stream, total, seconds=1)
        assert 0 < ahead <= limits.STREAM_WINDOW  # old: all 4 MiB, held by the server
        gate.opened.set()
        ahead += client.push(stream, total - ahead, seconds=30)
        assert client.wait_for(lambda: client.answer(stream) is not None)
        status, _, body = client.answer(stream) or (0, {}, b"")
        assert (status, body) == (200, str(total).encode())  # all of it, in the end
        answers_normally(server)


def test_large_bodies_on_one_connection_are_read_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(limits, "LARGE_BODY", 64 * 1024)
    holding, most = [0], [0]
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = b""
        while len(body) < 128 * 1024:  # past LARGE_BODY: its turn
            body += environ["wsgi.input"].read(128 * 1024 - len(body))
        with lock:
            holding[0] += 1
            most[0] = max(most[0], holding[0])
        time.sleep(0.2)  # the app at work with a large body in hand
        body += environ["wsgi.input"].read()
        with lock:
            holding[0] -= 1
        start_response("200 OK", [("content-type", "text/plain")])
        return [str(len(body)).encode()]

    with MockServer(app) as server:
        client = attacker_of(server)
        size = 512 * 1024
        left = {client.open(None): size for _ in range(3)}
        streams = list(left)
        deadline = time.monotonic() + 20
        while any(left.values()) and time.monotonic() < deadline:  # side by side
            for stream in streams:
                left[stream] -= client.push(stream, left[stream], seconds=0.05)
        assert client.wait_for(lambda: all(client.answer(s) is not None for s in streams))
        assert {client.answer(s)[2] for s in streams} == {str(size).encode()}  # type: ignore[index]
        assert most[0] == 1  # old: all three at once


def test_http2_bodies_draw_on_the_budget_http1_bodies_draw_on(
    monkeypatch: pytest.MonkeyPatch, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(door, "BODY_BUDGET", 300_000)
    monkeypatch.setattr(door, "SMALL_BODY", 10_000)
    monkeypatch.setattr(door, "BODY_WAIT", 0.5)
    padded = BODY[:-1] + b" " * 150_000 + b"}"
    gate = Gate()  # a call to GATE_PATH is in the app (its room reserved) until the gate opens
    with MockServer(gate) as server:
        # An HTTP/1.1 body holds 200,000 of the 300,000; an HTTP/2 one of 150,000 finds no
        # room, and is answered as HTTP/1.1 answers it: a 503 the client retries.
        with socket.create_connection(address(server), timeout=10) as holder:
            holder.sendall(http1_head(200_000, GATE_PATH) + b"{")
            assert gate.wait_calls(1)
            client = attacker_of(server)
            # The server's windows, wider than the 150,000-byte body, before it is sent.
            assert client.wait_for(lambda: client.conn.outbound_flow_control_window > 200_000)
            refused = client.open(padded, length=len(padded))
            small = client.open()  # a small body needs no room
            client.flush()
            assert client.wait_for(lambda: None not in (client.answer(refused),
                                                        client.answer(small)))
            status, head, body = client.answer(refused) or (0, {}, b"")
            assert (status, head.get(b"retry-after")) == (503, b"1")  # old: 200, no room needed
            assert "try again" in json.loads(body)["message"]
            assert client.answer(small)[0] == 200  # type: ignore[index]
            gate.opened.set()
            holder.sendall(b" " * (200_000 - 1))
            assert holder.recv(100).startswith(b"HTTP/1.1 200")
        # And the other way round: an HTTP/2 body holds the room an HTTP/1.1 one wants.
        gate.opened.clear()
        holding = client.open(None, length=200_000, path=GATE_PATH)
        client.conn.send_data(holding, b"{")
        client.flush()
        assert gate.wait_calls(2)
        connection = http.client.HTTPConnection(*address(server), timeout=10)
        connection.request("POST", INVOKE_PATH, body=padded,
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 503  # old: 200
        connection.close()
        gate.opened.set()
        client.push(holding, 200_000 - 1, seconds=10)
        assert client.wait_for(lambda: client.answer(holding) is not None)
        retried = client.open(padded, length=len(padded))  # room again
        client.flush()
        assert client.wait_for(lambda: client.answer(retried) is not None)
        assert client.answer(retried)[0] == 200  # type: ignore[index]


def test_the_body_an_app_read_is_freed_with_its_answer(
    attacker_of: Callable[..., Attacker]
) -> None:
    read: list[weakref.ref[Request]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)  # werkzeug's: it keeps itself in the environ
        request.get_data()
        read.append(weakref.ref(request))
        return Response("ok")(environ, start_response)

    gc.disable()  # what the cyclic GC would free some time later does not count
    try:
        with MockServer(app) as server:
            client = attacker_of(server)
            stream = client.open(b"x" * 50_000)
            client.flush()
            assert client.wait_for(lambda: client.answer(stream) is not None)
            time.sleep(0.2)  # the worker has finished with the stream
            assert read and read[0]() is None  # old: alive, with the body, until a GC
    finally:
        gc.enable()


# --- rapid reset and the stream limit -------------------------------------------------------


def test_rapid_reset_streams_do_not_run_and_the_connection_is_told_to_calm_down(
    attacker_of: Callable[..., Attacker]
) -> None:
    calls = Gate(hold=0, read_body=False)
    with MockServer(calls) as server:
        client = attacker_of(server)
        sent = 0
        while sent < 20 * limits.RESET_BURST and not client.goaway() and not client.ended:
            for _ in range(100):  # opened, sent whole and reset at once, as in the attack
                stream = client.open(path=GATE_PATH)
                client.conn.reset_stream(stream, ErrorCodes.CANCEL)
            sent += 100
            with contextlib.suppress(OSError):
                client.flush()
            client.read(0.01)
        client.read(2)  # the GOAWAY may come behind the last batch
        assert client.goaway() == [ErrorCodes.ENHANCE_YOUR_CALM]
        assert calls.calls < limits.WORKERS_PER_CONNECTION  # old: every stream ran
        answers_normally(server)


def test_streams_reset_while_still_running_count_against_the_stream_limit(
    monkeypatch: pytest.MonkeyPatch, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(limits, "MAX_STREAMS", 4)
    gate = Gate()
    with MockServer(gate) as server:
        client = attacker_of(server)
        running = [client.open(path=GATE_PATH) for _ in range(4)]
        client.flush()
        assert gate.wait_calls(4)
        for stream in running:  # reset, but their work goes on: they still count
            client.conn.reset_stream(stream, ErrorCodes.CANCEL)
        refused = [client.open(path=GATE_PATH) for _ in range(2)]
        client.flush()
        assert client.wait_for(lambda: set(refused) <= set(client.resets(ErrorCodes.REFUSED_STREAM)))
        gate.opened.set()  # the reset streams end; a new stream is served again
        assert client.wait_for(lambda: gate.calls == 4)
        time.sleep(0.2)
        again = client.open(path=GATE_PATH)
        client.flush()
        assert client.wait_for(lambda: client.answer(again) is not None)
        assert (client.answer(again) or (0,))[0] == 200
        assert gate.calls == 5
        answers_normally(server)


# --- stalls -------------------------------------------------------------------------------


def test_a_body_that_never_comes_frees_its_stream(
    monkeypatch: pytest.MonkeyPatch, server: MockServer, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(limits, "BODY_IDLE_TIMEOUT", 0.3)
    server.journal.clear()
    client = attacker_of(server)
    stalled = client.open(None, length=100)  # promised, never sent
    client.flush()
    assert client.wait_for(lambda: stalled in client.resets(ErrorCodes.CANCEL))
    assert [entry.outcome for entry in server.journal.entries()] == [CLIENT_DISCONNECTED]
    fine = client.open()  # the connection itself is still good
    client.flush()
    assert client.wait_for(lambda: client.answer(fine) is not None)
    answers_normally(server)


def test_a_window_that_never_opens_frees_its_stream(
    monkeypatch: pytest.MonkeyPatch, server: MockServer, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(limits, "SEND_STALL_TIMEOUT", 0.3)
    client = attacker_of(server, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    stuck = client.open()
    client.flush()
    assert client.wait_for(lambda: stuck in client.resets(ErrorCodes.CANCEL))
    answers_normally(server)


def test_a_client_that_never_reads_is_dropped(
    monkeypatch: pytest.MonkeyPatch, attacker_of: Callable[..., Attacker]
) -> None:
    monkeypatch.setattr(limits, "OUTBOX_LIMIT", 64 * 1024)
    monkeypatch.setattr(limits, "SEND_STALL_TIMEOUT", 0.3)
    megabyte = random.Random(1).randbytes(1024 * 1024)  # does not compress on the way
    with MockServer(Gate(hold=0, answer=megabyte)) as server:
        widest = 2**31 - 1
        client = attacker_of(server, receive_buffer=4096,
                             settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: widest})
        client.conn.increment_flow_control_window(widest - 65535)
        streams = [client.open(path=GATE_PATH) for _ in range(40)]  # 40 MiB of answers
        client.flush()
        time.sleep(1)  # not reading: the server's buffers fill, then nothing moves
        client.wait_for(lambda: False, seconds=5)  # now read what is left, to the end
        assert client.ended  # old: the connection stayed, the answers kept coming
        assert sum(client.answer(s) is not None for s in streams) < len(streams)
        answers_normally(server)


# --- stopping ------------------------------------------------------------------------------


def test_stop_does_not_wait_behind_queued_or_reset_streams(
    attacker_of: Callable[..., Attacker]
) -> None:
    gate = Gate(hold=0.5)
    server = MockServer(gate).start()
    try:
        client = attacker_of(server)
        streams = [client.open(path=GATE_PATH) for _ in range(60)]
        client.flush()
        assert gate.wait_calls(limits.WORKERS_PER_CONNECTION)
        for stream in streams[: len(streams) // 2]:
            client.conn.reset_stream(stream, ErrorCodes.CANCEL)
        client.flush()
    finally:
        started = time.monotonic()
        server.stop()
        stopping = time.monotonic() - started
    # Only the streams already running finished; the queued ones never started.
    assert gate.calls == limits.WORKERS_PER_CONNECTION  # old: all 60, one after another
    assert stopping < 10
