"""CORS, opt-in (``--cors-origin``): a named origin's pages may call the models (preflight
answered, answers readable), never the admin endpoints; any other origin is refused, and so
is every origin when none is named."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mock_bedrock.doors.server import MockServer
from tests.support.served import serving

PAGE = "http://localhost:3000"
CORE_PATH = "/model/stability.stable-image-core-v1:1/invoke"
SDK_HEADERS = "authorization,content-type,x-amz-date,x-amz-user-agent,amz-sdk-invocation-id"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(cors_origins=[PAGE, "https://App.Example.com"]) as running:
        yield running


def ask(url: str, method: str, path: str, headers: dict[str, str],
        body: bytes | None = None) -> http.client.HTTPResponse:
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def test_a_named_origins_preflight_is_answered(server: MockServer) -> None:
    answer = ask(server.endpoint_url, "OPTIONS", CORE_PATH, {
        "Origin": PAGE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": SDK_HEADERS})
    assert answer.status == 204
    assert answer.getheader("Access-Control-Allow-Origin") == PAGE
    assert answer.getheader("Access-Control-Allow-Headers") == SDK_HEADERS
    assert "POST" in answer.getheader("Access-Control-Allow-Methods", "")
    assert answer.getheader("Vary") == "Origin"


def test_a_named_origins_call_is_answered_readably(server: MockServer) -> None:
    body = json.dumps({"prompt": "a lighthouse"}).encode()
    answer = ask(server.endpoint_url, "POST", CORE_PATH, {
        "Origin": "https://app.example.com", "Content-Type": "application/json",
        "Accept": "application/json"}, body)
    assert answer.status == 200
    assert answer.getheader("Access-Control-Allow-Origin") == "https://app.example.com"
    exposed = answer.getheader("Access-Control-Expose-Headers", "").lower()
    assert "x-amzn-requestid" in exposed
    refused = ask(server.endpoint_url, "POST", CORE_PATH, {
        "Origin": PAGE, "Content-Type": "application/json"}, b'{"prompt": 7}')
    assert refused.status == 400  # the service's refusal, readable by the page
    assert refused.getheader("Access-Control-Allow-Origin") == PAGE
    assert "x-amzn-errortype" in refused.getheader("Access-Control-Expose-Headers", "").lower()


@pytest.mark.parametrize(("method", "path"), [("GET", "/_mock/journal"),
                                              ("OPTIONS", "/_mock/faults"),
                                              ("GET", "/_mock")])
def test_the_admin_endpoints_never_answer_a_page(server: MockServer, method: str,
                                                 path: str) -> None:
    answer = ask(server.endpoint_url, method, path, {
        "Origin": PAGE, "Access-Control-Request-Method": "DELETE"})
    assert answer.status == 403
    assert answer.getheader("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("origin", ["http://localhost:3001", "null", "http://evil.example"])
def test_any_other_origin_is_refused(server: MockServer, origin: str) -> None:
    answer = ask(server.endpoint_url, "OPTIONS", CORE_PATH, {
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert answer.status == 403
    assert answer.getheader("Access-Control-Allow-Origin") is None


def test_without_cors_origins_every_page_is_refused(mock_bedrock_server: MockServer) -> None:
    answer = ask(mock_bedrock_server.endpoint_url, "POST", CORE_PATH, {
        "Origin": PAGE, "Content-Type": "application/json"}, b'{"prompt": "x"}')
    assert answer.status == 403


def test_serve_takes_cors_origins_and_refuses_what_is_no_origin(tmp_path: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "mock_bedrock", "serve", "--port", "0",
                          "--cors-origin", "localhost:3000/app"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "is not an origin: give scheme://host[:port]" in bad.stderr
    with serving("--cors-origin", PAGE) as served:
        answer = ask(served.url, "OPTIONS", CORE_PATH, {"Origin": PAGE,
                                                        "Access-Control-Request-Method": "POST"})
        assert (answer.status, answer.getheader("Access-Control-Allow-Origin")) == (204, PAGE)
