"""The server door against a web page and against slow, stuck or greedy clients (issue 12):
only its own names answer (DNS rebinding), no page's request is served, connections are
capped, and no client holds a thread past a deadline. Limits are lowered per test."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_bedrock.doors import server as door
from mock_bedrock.doors.server import MockServer
from tests.mock.doors.calls import (
    BODY,
    INVOKE_PATH,
    JSON_HEADERS,
    address,
    answers_correctly,
    bedrock,
)
from tests.support.served import serving

RULE = json.dumps({"error": "ThrottlingException"})
EVIL = "rebind.evil.example"


def request(server: MockServer, method: str, path: str, *, body: str | bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection(*address(server), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def rules(server: MockServer) -> int:
    return len(request(server, "GET", "/_mock/faults")[1]["rules"])


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server ends the connection within ``seconds`` (what it sends first, a
    408 say, is read and skipped)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


# --- DNS rebinding: only the server's own names ------------------------------------------


def test_a_foreign_host_is_refused_with_421_naming_the_option(server: MockServer) -> None:
    port = address(server)[1]
    status, body = request(server, "POST", "/_mock/faults", body=RULE,
                           headers={"Host": f"{EVIL}:{port}",
                                    "Content-Type": "application/json"})
    assert status == 421
    assert f"'{EVIL}:{port}'" in body["message"]
    assert f"--allow-host {EVIL}" in body["message"]
    assert request(server, "GET", "/_mock/journal", headers={"Host": EVIL})[0] == 421
    assert rules(server) == 0
    assert answers_correctly(server)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:{port}", "127.0.0.1:{port}",
                                  "[::1]:{port}", "127.0.0.2"])
def test_loopback_names_and_addresses_are_answered(server: MockServer, host: str) -> None:
    host = host.format(port=address(server)[1])
    assert request(server, "GET", "/_mock/health", headers={"Host": host})[0] == 200


def test_a_foreign_authority_is_refused_over_http2(server: MockServer) -> None:
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        refused = client.post(server.endpoint_url + "/_mock/faults", content=RULE,
                              headers={"content-type": "application/json", "host": EVIL})
        assert refused.http_version == "HTTP/2"
        assert (refused.status_code, rules(server)) == (421, 0)
        assert client.post(server.endpoint_url + INVOKE_PATH, content=BODY,
                           headers=JSON_HEADERS).status_code == 200


def test_allowed_hosts_are_answered() -> None:
    with MockServer(allow_hosts=["mock.internal"]) as server:
        assert request(server, "GET", "/_mock/health",
                       headers={"Host": "mock.internal:8787"})[0] == 200
        assert request(server, "GET", "/_mock/health", headers={"Host": EVIL})[0] == 421
    with MockServer(allow_hosts=["*"]) as server:
        assert request(server, "GET", "/_mock/health", headers={"Host": EVIL})[0] == 200


def test_serve_allow_host_and_max_connections_options() -> None:
    with serving("--allow-host", "mock.internal", "--max-connections", "8",
                 script=True) as served:
        host, port = served.url.removeprefix("http://").rsplit(":", 1)
        statuses = []
        for name in ("mock.internal", EVIL):
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/_mock/health", headers={"Host": name})
            statuses.append(connection.getresponse().status)
            connection.close()
        assert statuses == [200, 421]


# --- cross-site requests -----------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json"])
def test_a_request_from_another_origin_is_refused(server: MockServer,
                                                  content_type: str) -> None:
    status, body = request(server, "POST", "/_mock/faults", body=RULE,
                           headers={"Origin": "http://evil.example",
                                    "Content-Type": content_type})
    assert status == 403
    assert "http://evil.example" in body["message"]
    assert request(server, "DELETE", "/_mock/journal",
                   headers={"Origin": "null"})[0] == 403
    assert rules(server) == 0


def test_the_servers_own_origin_is_answered(server: MockServer) -> None:
    status, _ = request(server, "POST", "/_mock/faults", body=RULE,
                        headers={"Origin": server.endpoint_url,
                                 "Content-Type": "application/json"})
    assert (status, rules(server)) == (201, 1)


# --- connections ------------------------------------------------------------------------


def test_past_the_cap_the_longest_idle_connection_makes_room() -> None:
    with MockServer(max_connections=3) as server:
        idle = []
        for _ in range(3):
            # One at a time: a connection is idle from when its thread starts waiting, and
            # on a busy machine three threads started together may start in any order.
            idle.append(socket.create_connection(address(server), timeout=10))
            time.sleep(0.3)
        try:
            assert answers_correctly(server)
            assert closed_within(idle[0], 5)
            assert not closed_within(idle[2], 0.2)
        finally:
            for sock in idle:
                sock.close()


def test_past_the_cap_with_every_connection_busy_a_newcomer_gets_503() -> None:
    head = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").encode()
    with MockServer(max_connections=2) as server:
        busy = [socket.create_connection(address(server), timeout=10) for _ in range(2)]
        try:
            for sock in busy:
                sock.sendall(head)  # a body that is still coming: busy, not idle
            time.sleep(0.3)
            started = time.monotonic()
            status, body = request(server, "GET", "/_mock/health")
            assert status == 503
            assert "--max-connections" in body["message"]
            assert time.monotonic() - started < 5  # answered at once, not queued
        finally:
            for sock in busy:
                sock.close()
        time.sleep(0.3)
        assert answers_correctly(server)


# --- deadlines ----------------------------------------------------------------------------


@contextlib.contextmanager
def trickling(sock: socket.socket, piece: bytes, every: float) -> Iterator[None]:
    """Sends ``piece`` every ``every`` seconds while the block runs (until the socket fails)."""
    stop = threading.Event()

    def trickle() -> None:
        with contextlib.suppress(OSError):
            while not stop.wait(every):
                sock.send(piece)

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join()


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(door, "HEADER_TIMEOUT", 0.5)
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        with trickling(sock, b"a", every=0.05):
            assert closed_within(sock, 5)
    assert answers_correctly(server)


def test_a_trickled_body_is_cut_off(server: MockServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door, "BODY_TIMEOUT", 0.5)
    monkeypatch.setattr(door, "BODY_MIN_RATE", 10_000)
    head = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n").encode()
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head)
        with trickling(sock, b" " * 100, every=0.1):  # 1,000 bytes a second: a tenth of the pace
            assert closed_within(sock, 5)
    assert answers_correctly(server)


def test_a_client_that_never_reads_its_answers_is_let_go(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(door, "SEND_TIMEOUT", 0.5)
    count = 300  # answers of ~50 KB: far more than the socket buffers hold
    one = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n").encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(address(server))
    with sock:
        sock.sendall((one + BODY) * count)
        time.sleep(2.5)  # reading nothing, long past the send timeout
        received = b""
        with contextlib.suppress(ConnectionError):
            while data := sock.recv(65536):
                received += data
    # The server gave up on the connection: the answers stop short, then the socket ends.
    assert 0 < received.count(b"HTTP/1.1 200 OK") < count
    assert answers_correctly(server)


def test_bodies_past_the_budget_wait_then_get_503_and_small_calls_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(door, "BODY_BUDGET", 300_000)
    monkeypatch.setattr(door, "SMALL_BODY", 10_000)
    monkeypatch.setattr(door, "BODY_WAIT", 0.5)

    def head(length: int) -> bytes:
        return (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                f"application/json\r\nContent-Length: {length}\r\n\r\n").encode()

    with MockServer() as server:
        holder = socket.create_connection(address(server), timeout=10)
        with holder:
            holder.sendall(head(200_000) + b"{")  # holds 200,000 of the 300,000
            time.sleep(0.3)
            with socket.create_connection(address(server), timeout=10) as second:
                second.sendall(head(150_000) + b" " * 150_000)
                response = http.client.HTTPResponse(second)
                response.begin()
                assert response.status == 503
            assert answers_correctly(server)  # a small body needs no room
        time.sleep(0.3)  # the holder left: its room is free again
        client = bedrock(server.endpoint_url)
        padded = BODY[:-1] + b" " * 150_000 + b"}"
        assert client.invoke_model(body=padded, modelId="stability.stable-diffusion-xl-v1")[
            "ResponseMetadata"]["HTTPStatusCode"] == 200
