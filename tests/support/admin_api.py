"""The admin API as a stranger or its owner calls it over HTTP/1.1, and what a server that
guards it with a token must answer each."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

LATENCY_RULE = json.dumps({"latency_ms": 600_000}).encode()  # what a stranger would install


def admin(url: str, method: str, path: str, token: str | None = None,
          body: bytes | None = None) -> tuple[int, dict[str, str], Any]:
    """One admin call over HTTP/1.1: status, headers (lower-case names), JSON body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    return (response.status, {k.lower(): v for k, v in response.getheaders()},
            json.loads(answer))


def assert_refused(url: str, method: str, path: str, token: str | None = None,
                   body: bytes | None = None) -> None:
    status, headers, answer = admin(url, method, path, token, body)
    assert status == 401, answer
    assert headers["www-authenticate"].startswith("Bearer ")
    assert "\n" not in answer["message"]  # one line, saying how to get in
    assert "Authorization: Bearer" in answer["message"]
    assert "--admin-token" in answer["message"] and "--admin-open" in answer["message"]


def assert_admin_needs(url: str, token: str) -> None:
    """Reads and writes refused without the token or with another; served with it; health
    open to all."""
    for method, path, body in (("GET", "/_mock/journal", None),
                               ("DELETE", "/_mock/journal", None),
                               ("GET", "/_mock/faults", None),
                               ("POST", "/_mock/faults", LATENCY_RULE),
                               ("DELETE", "/_mock/faults", None)):
        assert_refused(url, method, path, body=body)
        assert_refused(url, method, path, token + "x", body=body)
    assert admin(url, "GET", "/_mock/faults", token)[2] == {"rules": []}  # nothing set
    assert admin(url, "GET", "/_mock/journal", token)[0] == 200
    assert admin(url, "POST", "/_mock/faults", token, b'{"error": "ThrottlingException"}')[0] \
        == 201
    assert admin(url, "DELETE", "/_mock/faults", token)[0] == 200
    assert admin(url, "GET", "/_mock/health")[0] == 200
