"""The admin endpoints' writes take only JSON (what no web page can send without asking
first), and odd bodies are clear 400/413s, never a 500 (issue 12)."""

from __future__ import annotations

import http.client
import json

import pytest
from werkzeug.test import Client

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.admin import MAX_BODY
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.wire import max_body_length

RULE = json.dumps({"error": "ThrottlingException"})



@pytest.mark.parametrize("content_type", [None, "text/plain",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_write_whose_body_is_not_declared_json_is_refused(
    app: MockBedrock, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = Client(app).post("/_mock/faults", data=RULE, headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json["message"]
    assert app.faults.rules == []
    assert Client(app).delete("/_mock/journal", data="{}",
                              headers={"Content-Type": "text/plain"}).status_code == 415


def test_json_with_parameters_and_a_bodyless_delete_are_taken(app: MockBedrock) -> None:
    client = Client(app)
    added = client.post("/_mock/faults", data=RULE,
                        headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert added.status_code == 201
    assert client.delete("/_mock/faults").status_code == 200
    assert app.faults.rules == []


def test_deep_nesting_is_a_400(app: MockBedrock) -> None:
    for body in ("[" * 100_000, '{"prompt": ' + "[" * 5000 + "]" * 5000 + "}"):
        response = Client(app).post("/_mock/faults", data=body,
                                    content_type="application/json")
        assert response.status_code == 400
        assert response.json["message"]
    assert app.faults.rules == []


def test_bodies_over_the_limit_are_a_413_over_the_socket(app: MockBedrock) -> None:
    with MockServer(app) as server:
        host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
        for size in (MAX_BODY + 1, max_body_length() + 1):
            body = b"[" + b"{}," * (size // 3) + b"{}]"
            assert len(body) >= size
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                connection.request("POST", "/_mock/faults", body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read())
            finally:
                connection.close()
            assert response.status == 413
            assert str(MAX_BODY) in answer["message"]
    assert app.faults.rules == []
