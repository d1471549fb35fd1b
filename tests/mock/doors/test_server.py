"""The server door's mechanics: bad input, concurrency, keep-alive, HTTP/2, clean stops, CLI."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import io
import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from mock_bedrock.doors.chunked import EXTENSIONS_LIMIT
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import CLIENT_DISCONNECTED, DropConnection, MockBedrock
from mock_bedrock.service.faults import FaultRule
from mock_bedrock.service.wire import max_body_length
from tests.mock.doors.calls import (
    BODY,
    INVOKE_PATH,
    JSON_HEADERS,
    MODEL_ID,
    STREAM_PATH,
    address,
    answers_correctly,
    bedrock,
    invoke_bytes,
)
from tests.support.served import serving


def raw_exchange(server: MockServer, data: bytes, *, half_close: bool = True) -> bytes:
    """Send bytes on a fresh socket and return everything the server sends back before it
    closes the connection."""
    received = b""
    with socket.create_connection(address(server), timeout=10) as sock:
        # The server may refuse and close before all of the garbage is sent.
        with contextlib.suppress(OSError):
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    return received


# --- bad input never takes it down --------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\n\r\n", b"505"),
        (b"POST /x HTTP/1.1\r\nContent-Length: many\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"POST /x HTTP/1.1\r\n" + b"X-Filler: y\r\n" * 200 + b"\r\n", b"431"),
    ],
    ids=["one word", "HTTP/9.9", "bad length", "negative length", "long line", "many headers"],
)
def test_malformed_http_is_refused_and_the_server_stays_up(
    server: MockServer, request_bytes: bytes, status: bytes | None
) -> None:
    reply = raw_exchange(server, request_bytes)
    if status is not None:
        assert reply.startswith(b"HTTP/1.1 " + status)
    assert answers_correctly(server)



def test_any_wsgi_app_is_served_but_only_the_mock_has_controls() -> None:
    def teapot(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("418 I'm a teapot", [("Content-Length", "0")])
        return []

    with MockServer(teapot) as server:
        connection = http.client.HTTPConnection("127.0.0.1", urlsplit(server.endpoint_url).port)
        connection.request("POST", INVOKE_PATH, body=BODY, headers=JSON_HEADERS)
        assert connection.getresponse().status == 418
        connection.close()
        for control in ("faults", "journal"):
            with pytest.raises(TypeError, match=f"no {control} here.*function, not a MockBedrock"):
                getattr(server, control)
    app = MockBedrock()
    with MockServer(app) as mock:
        assert (mock.faults, mock.journal) == (app.faults, app.journal)


def test_garbage_bytes_do_not_take_it_down(server: MockServer) -> None:
    noise = random.Random(1).randbytes(64 * 1024)
    for blob in (noise, b"\r\n" + noise, b"POST " + noise, b"\x00" * 1000):
        raw_exchange(server, blob)
    assert answers_correctly(server)


def test_oversized_body_is_refused_without_being_sent_whole(server: MockServer) -> None:
    too_long = max_body_length() + 1
    head = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {too_long}\r\n\r\n").encode()
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head + b"{" + b" " * 1000)  # a sliver of the promised body
        response = http.client.HTTPResponse(sock)
        response.begin()  # answered though most of the body never left this machine
        assert response.status == 400
        assert response.getheader("x-amzn-ErrorType", "").startswith("ValidationException:")
        assert str(max_body_length()) in json.loads(response.read())["message"]
    assert answers_correctly(server)


def test_client_that_disconnects_mid_body(server: MockServer) -> None:
    head = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 100000\r\n\r\n").encode()
    server.journal.clear()
    for _ in range(3):
        with socket.create_connection(address(server), timeout=10) as sock:
            sock.sendall(head + BODY[:20])
    assert answers_correctly(server)
    # Journaled as the client's doing, not as a crash of the service (500).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(server.journal.entries()) < 4:
        time.sleep(0.01)
    outcomes = sorted(str(entry.outcome) for entry in server.journal.entries())
    assert outcomes == [CLIENT_DISCONNECTED] * 3 + ["SUCCESS"]


def test_32_concurrent_clients_are_served_alike(server: MockServer) -> None:
    barrier = threading.Barrier(32)

    def one_client(_: int) -> bytes:
        client = bedrock(server.endpoint_url)
        barrier.wait(timeout=30)  # every client in flight at once
        data: bytes = client.invoke_model(body=BODY, modelId=MODEL_ID)["body"].read()
        return data

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(one_client, range(32)))
    assert len(set(answers)) == 1
    assert json.loads(answers[0])["result"] == "success"
    assert len(server.journal) == 32
    assert answers_correctly(server)


# --- HTTP/1.1 keep-alive ------------------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(server: MockServer) -> None:
    connection = http.client.HTTPConnection(*address(server), timeout=10)
    try:
        bodies, sockets = [], []
        for path in (INVOKE_PATH, STREAM_PATH, INVOKE_PATH, "/model/nope/invoke"):
            connection.request("POST", path, body=BODY, headers=JSON_HEADERS)
            response = connection.getresponse()
            assert response.getheader("Connection") is None
            bodies.append((response.status, response.read()))
            sockets.append(connection.sock)
    finally:
        connection.close()
    # http.client reconnects (a new socket) whenever the server closed the connection.
    assert len({id(s) for s in sockets}) == 1
    assert [status for status, _ in bodies] == [200, 200, 200, 400]
    assert bodies[0][1] == bodies[2][1]


def test_body_the_app_did_not_read_is_skipped_before_the_next_request(
    server: MockServer,
) -> None:
    connection = http.client.HTTPConnection(*address(server), timeout=10)
    try:
        # An unknown path is refused before the body is read; the body must not be taken
        # for the next request line.
        connection.request("POST", "/no/such/operation", body=b"x" * 200_000)
        first = connection.getresponse()
        first.read()
        connection.request("POST", INVOKE_PATH, body=BODY, headers=JSON_HEADERS)
        second = connection.getresponse()
        assert (first.status, second.status) == (404, 200)
        assert second.read() == invoke_bytes(server.endpoint_url)
    finally:
        connection.close()


# --- the server's own edge cases, with tiny WSGI apps -------------------------------------


def chunked_request(*framing: bytes) -> bytes:
    head = (f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            "application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    return head + b"".join(framing)


def status_and_body(reply: bytes) -> tuple[int, bytes]:
    """An HTTP/1.1 answer's status and (de-chunked) body, read from its bytes."""

    class Received:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(reply)

    response = http.client.HTTPResponse(Received())  # type: ignore[arg-type]
    response.begin()
    return response.status, response.read()


def test_a_chunked_body_with_extensions_and_trailer_fields_is_read(server: MockServer) -> None:
    half = len(BODY) // 2
    reply = raw_exchange(server, chunked_request(
        b"%x;signature=9f86d0\r\n" % half, BODY[:half], b"\r\n",  # an extension (ignored)
        b"%x\r\n" % (len(BODY) - half), BODY[half:], b"\r\n",
        b"0\r\nX-Checksum: 9f86d0\r\nX-Note: trailing\r\n\r\n",  # trailer fields (dropped)
    ))
    assert reply, "the connection was closed without an answer"  # old: closed, no answer
    assert status_and_body(reply) == (200, invoke_bytes(server.endpoint_url))


def test_chunk_extensions_past_their_limit_are_not_read_on(server: MockServer) -> None:
    reply = raw_exchange(server, chunked_request(
        b"%x;x=%b\r\n" % (len(BODY), b"e" * EXTENSIONS_LIMIT), BODY, b"\r\n0\r\n\r\n"))
    assert b" 200 " not in reply.partition(b"\r\n")[0]
    assert [entry.outcome for entry in server.journal.entries()] == [CLIENT_DISCONNECTED]
    assert answers_correctly(server)


def test_a_crashing_app_gets_500_and_the_server_stays_up() -> None:
    def crash(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise RuntimeError("bug in the app")

    with MockServer(crash) as running:
        reply = raw_exchange(running, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 500")
        assert raw_exchange(running, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(
            b"HTTP/1.1 500")


def test_drop_connection_mid_stream_truncates_the_response() -> None:
    def dropping(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first piece"
        raise DropConnection("fault")

    with MockServer(dropping) as running:
        reply = raw_exchange(running, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", half_close=False)
        assert reply.startswith(b"HTTP/1.1 200")
        assert b"first piece" in reply
        assert not reply.endswith(b"0\r\n\r\n")  # no last chunk: the client sees a cut


def test_stop_ends_idle_keep_alive_connections_and_leaves_no_threads() -> None:
    threads_before = set(threading.enumerate())
    server = MockServer().start()
    idle = http.client.HTTPConnection(*address(server), timeout=10)
    idle.request("POST", INVOKE_PATH, body=BODY, headers=JSON_HEADERS)
    idle.getresponse().read()  # the connection stays open, its thread waiting
    idle_h2 = httpx.Client(http1=False, http2=True, timeout=10)
    assert idle_h2.post(server.endpoint_url + INVOKE_PATH, content=BODY,
                        headers=JSON_HEADERS).status_code == 200
    where = address(server)
    server.stop()
    idle.close()
    idle_h2.close()
    assert set(threading.enumerate()) <= threads_before
    with pytest.raises(OSError):
        socket.create_connection(where, timeout=2).close()


def test_endpoint_url_needs_a_running_server() -> None:
    server = MockServer()
    with pytest.raises(RuntimeError):
        _ = server.endpoint_url
    server.stop()  # stopping a server that never started is harmless


# --- HTTP/2 with prior knowledge ------------------------------------------------------------


@pytest.fixture
def h2_client() -> Iterator[httpx.Client]:
    with httpx.Client(http1=False, http2=True, timeout=30) as client:
        yield client


def test_http2_prior_knowledge_gives_the_http1_bytes(
    server: MockServer, h2_client: httpx.Client
) -> None:
    response = h2_client.post(server.endpoint_url + INVOKE_PATH, content=BODY,
                              headers=JSON_HEADERS)
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    assert response.headers["x-amzn-requestid"]
    assert response.content == invoke_bytes(server.endpoint_url)


def _noise_png_b64() -> str:
    # Noise does not compress: the image (and the response that carries it back) stays large.
    noise = Image.frombytes("L", (1024, 1024), random.Random(3).randbytes(1024 * 1024))
    out = io.BytesIO()
    noise.convert("RGB").save(out, format="PNG", compress_level=1)
    return base64.b64encode(out.getvalue()).decode()


def test_http2_flow_control_both_ways(server: MockServer, h2_client: httpx.Client) -> None:
    body = json.dumps({"text_prompts": [{"text": "noise"}], "seed": 9,
                       "init_image": _noise_png_b64(), "image_strength": 0.9}).encode()
    response = h2_client.post(server.endpoint_url + INVOKE_PATH, content=body,
                              headers=JSON_HEADERS)
    # Megabytes both ways: the upload outgrows the server's 1 MiB stream window, so the
    # client had to wait for the server's WINDOW_UPDATEs; the answer is sent frame by frame
    # within the window httpx grants.
    assert len(body) > 2_000_000
    assert len(response.content) > 2_000_000
    assert response.status_code == 200
    over_http1 = bedrock(server.endpoint_url).invoke_model(body=body, modelId=MODEL_ID)
    assert response.content == over_http1["body"].read()


def test_http2_stream_operation_and_refusals(server: MockServer, h2_client: httpx.Client) -> None:
    streamed = h2_client.post(server.endpoint_url + STREAM_PATH, content=BODY,
                              headers={"content-type": "application/json"})
    assert streamed.status_code == 200
    assert streamed.headers["content-type"] == "application/vnd.amazon.eventstream"
    refused = h2_client.post(server.endpoint_url + INVOKE_PATH, content=b'{"steps": 1}',
                             headers=JSON_HEADERS)
    assert refused.status_code == 400
    assert refused.headers["x-amzn-errortype"].startswith("ValidationException:")


def test_http2_large_upload_and_concurrent_streams(server: MockServer) -> None:
    padded = json.dumps({"text_prompts": [{"text": "x" * 2000}] * 60, "seed": 5}).encode()
    assert len(padded) > 65535  # more than the client may send before the server credits it

    # httpx's async client: its sync one, shared by threads, may send a stream's HEADERS
    # after a later stream's (it takes the id and sends under two locks), a PROTOCOL_ERROR
    # the server must answer with GOAWAY (RFC 9113 5.1.1); seen in 4 of 300 runs.
    async def eight() -> list[httpx.Response]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=30) as client:
            return await asyncio.gather(*(
                client.post(server.endpoint_url + INVOKE_PATH, content=padded,
                            headers=JSON_HEADERS) for _ in range(8)))

    answers = asyncio.run(eight())
    assert {(a.status_code, a.http_version) for a in answers} == {(200, "HTTP/2")}
    assert len({a.content for a in answers}) == 1
    assert answers_correctly(server)


def test_http2_dropped_connection_and_recovery(
    server: MockServer, h2_client: httpx.Client
) -> None:
    server.faults.add(FaultRule(drop_connection=True, times=1))
    with pytest.raises(httpx.TransportError):
        h2_client.post(server.endpoint_url + INVOKE_PATH, content=BODY, headers=JSON_HEADERS)
    again = h2_client.post(server.endpoint_url + INVOKE_PATH, content=BODY,
                           headers=JSON_HEADERS)
    assert again.status_code == 200
    assert [entry.outcome for entry in server.journal.entries()] == ["DropConnection",
                                                                      "SUCCESS"]


def test_http2_garbage_after_the_preface_does_not_take_it_down(server: MockServer) -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    raw_exchange(server, preface + random.Random(2).randbytes(4096))
    raw_exchange(server, preface[:10])
    assert answers_correctly(server)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_http2_prior_knowledge(server: MockServer, tmp_path: Path) -> None:
    features = subprocess.run(["curl", "--version"], capture_output=True, text=True,
                              check=True).stdout
    if "HTTP2" not in features:
        pytest.skip("this curl was built without HTTP/2")
    out = tmp_path / "answer.json"
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--http2-prior-knowledge", "--max-time", "30",
         "--output", str(out), "--write-out", "%{http_version} %{http_code}",
         "--header", "Content-Type: application/json", "--data-binary", BODY.decode(),
         server.endpoint_url + INVOKE_PATH],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 200"
    assert out.read_bytes() == invoke_bytes(server.endpoint_url)


# --- the CLI, as a real process -----------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_cli_prints_the_url_first_serves_and_stops_on_signals(stop_signal: int) -> None:
    with serving() as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert json.loads(invoke_bytes(served.url))["result"] == "success"
        code, _, stderr = served.stop(stop_signal)
    assert code == 0, stderr


def test_cli_faults_file_and_strict_credentials(tmp_path: Path) -> None:
    rules = tmp_path / "faults.json"
    rules.write_text(json.dumps([{"error": "ModelTimeoutException", "times": 1}]))
    with serving("--faults", str(rules), "--strict-credentials", "k:s") as served:
        client = bedrock(served.url)  # signs with k/s
        with pytest.raises(client.exceptions.ModelTimeoutException):
            client.invoke_model(body=BODY, modelId=MODEL_ID)
        assert json.loads(client.invoke_model(body=BODY, modelId=MODEL_ID)["body"].read())
        stranger = bedrock(served.url, access_key="other")
        with pytest.raises(stranger.exceptions.ClientError) as refused:
            stranger.invoke_model(body=BODY, modelId=MODEL_ID)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        code, _, _ = served.stop()
    assert code == 0


def test_cli_refuses_a_bad_faults_file_and_a_busy_port(tmp_path: Path) -> None:
    rules = tmp_path / "faults.json"
    rules.write_text('{"not": "a list"}')
    bad = subprocess.run([sys.executable, "-m", "mock_bedrock.cli", "serve", "--port", "0",
                          "--faults", str(rules)], capture_output=True, text=True, timeout=30,
                         check=False)
    assert bad.returncode == 2
    assert "faults" in bad.stderr
    with MockServer() as running:
        port = str(address(running)[1])
        busy = subprocess.run([sys.executable, "-m", "mock_bedrock.cli", "serve", "--port",
                               port], capture_output=True, text=True, timeout=30, check=False)
    assert busy.returncode == 1
    assert "cannot listen" in busy.stderr
