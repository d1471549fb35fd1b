"""The admin endpoints under /_mock/ and the journal they expose."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.test import Client

from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.faults import FaultRule
from tests.support.wsgi_app import SDXL, invoke, sdxl_body


def test_health(wsgi: Client) -> None:
    response = wsgi.get("/_mock/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert (response.json["faults"], response.json["journal"]) == (0, 0)


def test_post_one_rule_then_a_list_and_they_act(app: MockBedrock, wsgi: Client) -> None:
    one = wsgi.post("/_mock/faults", json={"prompt": "fox", "error": "ThrottlingException"})
    assert one.status_code == 201
    assert one.json == {"added": [{"prompt": "fox", "error": "ThrottlingException"}]}
    many = wsgi.post("/_mock/faults", json=[{"nth": 1, "finish_reason": "ERROR"},
                                              {"latency_ms": 1, "name": "tick"}])
    assert many.status_code == 201
    assert len(app.faults.rules) == 3
    assert invoke(wsgi, sdxl_body(text_prompts=[{"text": "a fox"}])).status_code == 429


def test_get_lists_rules_with_counters(wsgi: Client) -> None:
    wsgi.post("/_mock/faults", json={"every": 2, "error": "ThrottlingException"})
    statuses = [invoke(wsgi).status_code for _ in range(3)]
    assert statuses == [200, 429, 200]
    assert wsgi.get("/_mock/faults").json == {
        "rules": [{"every": 2, "error": "ThrottlingException", "seen": 3, "fired": 1}]
    }


def test_delete_clears_rules(app: MockBedrock, wsgi: Client) -> None:
    app.faults.add(FaultRule(error="ThrottlingException"))
    assert wsgi.delete("/_mock/faults").status_code == 200
    assert app.faults.rules == []
    assert invoke(wsgi).status_code == 200


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"{not json", "body is not JSON"),
        (json.dumps({"error": "NopeException"}).encode(), "rule 0: 'error' is 'NopeException'"),
        (json.dumps([{"latency_ms": 1}, {"bogus": 1}]).encode(), "rule 1: unknown field"),
    ],
)
def test_bad_posts_are_400_and_add_nothing(
    app: MockBedrock, wsgi: Client, data: bytes, complaint: str
) -> None:
    response = wsgi.post("/_mock/faults", data=data, content_type="application/json")
    assert response.status_code == 400
    assert complaint in response.json["message"]
    assert app.faults.rules == []


def test_journal_lists_every_call_as_json_and_can_be_cleared(
    app: MockBedrock, wsgi: Client
) -> None:
    invoke(wsgi, sdxl_body(seed=3))
    invoke(wsgi, {"text_prompts": []}, stream=True)
    wsgi.post("/nowhere")
    entries = wsgi.get("/_mock/journal").json["entries"]
    assert [(e["operation"], e["status"], e["outcome"]) for e in entries] == [
        ("InvokeModel", 200, "SUCCESS"),
        ("InvokeModelWithResponseStream", 400, "ValidationException"),
        (None, 404, "UnknownOperationException"),
    ]
    assert entries[0]["model_id"] == SDXL
    assert entries[0]["seed"] == 3
    assert entries[0]["body"] == sdxl_body(seed=3)
    assert all(isinstance(e["time"], float) and e["request_id"] for e in entries)
    assert wsgi.delete("/_mock/journal").status_code == 200
    assert app.journal.entries() == []
    assert wsgi.get("/_mock/journal").json == {"entries": [], "dropped": 0}


def test_a_call_in_flight_when_the_journal_is_cleared_is_not_recorded(
    app: MockBedrock, wsgi: Client
) -> None:
    # A test clears the journal and then counts its own calls: one a thread of the test
    # before still had in flight must not be among them.
    app.faults.add(FaultRule(latency_ms=300, times=1))
    slow = threading.Thread(target=invoke, args=(Client(app), sdxl_body(seed=1)))
    slow.start()
    while not app.faults.snapshot()[0]["fired"]:  # it has arrived: now it waits
        time.sleep(0.005)
    assert wsgi.delete("/_mock/journal").status_code == 200
    invoke(wsgi, sdxl_body(seed=2))
    slow.join()
    assert [entry.seed for entry in app.journal.entries()] == [2]


def test_admin_calls_stay_out_of_the_journal(app: MockBedrock, wsgi: Client) -> None:
    wsgi.get("/_mock/health")
    wsgi.get("/_mock/faults")
    assert app.journal.entries() == []


def test_unknown_admin_path_and_wrong_method(wsgi: Client) -> None:
    assert wsgi.get("/_mock/nothing").status_code == 404
    wrong = wsgi.put("/_mock/journal")
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "DELETE"}
