"""Fault rules: each way of matching a call, each action, rule files and thread safety."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from mock_bedrock.placeholder import read_parameters
from mock_bedrock.service import app as app_module
from mock_bedrock.service.app import DropConnection, MockBedrock
from mock_bedrock.service.errors import INVOKE, INVOKE_STREAM
from mock_bedrock.service.faults import CallFacts, FaultRule, FaultRuleError, FaultSet
from tests.support.wsgi_app import SDXL, SDXL_ARN, invoke, parse, sdxl_body

CALL = CallFacts(INVOKE, SDXL, ("a red fox in snow",))


def fired_calls(rule: FaultRule, calls: int, call: CallFacts = CALL) -> list[int]:
    """Which of ``calls`` identical calls (numbered from 1) the rule fires on."""
    faults = FaultSet([rule])
    return [n for n in range(1, calls + 1) if faults.decide(call).fired]


def prompt_call(*prompts: str) -> CallFacts:
    return CallFacts(INVOKE, SDXL, prompts)


# -- rules that could never fire are refused --------------------------------------------

CORE = "stability.stable-image-core-v1:1"


@pytest.mark.parametrize(("rule", "refusal"), [
    (FaultRule(model_id="stability.stable-image-core-v1:2", error="ThrottlingException"),
     "'model_id' 'stability.stable-image-core-v1:2' is no model the mock serves "
     f"(did you mean '{CORE}'?)"),
    (FaultRule(model_id=CORE, finish_reason="CONTENT_FILTERED"),
     f"'finish_reason' 'CONTENT_FILTERED' is not among {CORE}'s answers "
     "(Filter reason: prompt, Filter reason: output image, Filter reason: input image, "
     "Inference error)"),
    (FaultRule(model_id="stability.stable-image-remove-background-v1:0", prompt="fox",
               error="ThrottlingException"),
     "stability.stable-image-remove-background-v1:0 takes no prompt, so a prompt condition "
     "never holds"),
    (FaultRule(operation=INVOKE, stream_error="ModelStreamErrorException"),
     "a stream error happens only in InvokeModelWithResponseStream, not InvokeModel"),
], ids=["model id typo", "finish reason of another model", "prompt on a model without",
        "stream error outside a stream"])
def test_a_rule_that_could_never_fire_is_refused_with_why(rule: FaultRule, refusal: str) -> None:
    faults = FaultSet()
    with pytest.raises(FaultRuleError) as refused:
        faults.add(rule)
    assert str(refused.value) == f"rule 0 can never fire: {refusal}"
    assert faults.rules == []


def test_a_misspelt_field_gets_a_did_you_mean() -> None:
    with pytest.raises(FaultRuleError, match=r"unknown field\(s\) 'finishReason' \(did you mean "
                       r"'finish_reason'\?\)"):
        FaultRule.from_dict({"finishReason": "ERROR"})


def test_the_rules_of_a_mock_serving_its_own_catalogue_are_checked_against_it() -> None:
    app = MockBedrock()
    with pytest.raises(FaultRuleError, match="is no model the mock serves"):
        app.faults.add(FaultRule(model_id="amazon.titan-x-v1", error="ThrottlingException"))
    client = Client(app)
    answer = client.post("/_mock/faults", json={"model_id": CORE,
                                                 "finish_reason": "CONTENT_FILTERED"})
    assert answer.status_code == 400
    assert "can never fire" in answer.json["message"]
    assert app.faults.rules == []


# -- matching ---------------------------------------------------------------------------

def test_prompt_substring_matches_any_prompt_case_sensitively() -> None:
    faults = FaultSet([FaultRule(prompt="fox", error="ThrottlingException")])
    assert faults.decide(prompt_call("a cat", "a red fox")).rule is not None
    assert faults.decide(prompt_call("a Fox")).rule is None
    assert faults.decide(prompt_call("a cat")).rule is None


def test_prompt_regex_searches_each_prompt() -> None:
    faults = FaultSet([FaultRule(prompt_regex=r"^(fail|boom)\b", error="ModelErrorException")])
    assert faults.decide(prompt_call("nice", "boom now")).rule is not None
    assert faults.decide(prompt_call("no boom")).rule is None


def test_model_id_condition_accepts_an_arn_for_the_served_id() -> None:
    by_arn = FaultSet([FaultRule(model_id=SDXL_ARN, error="ThrottlingException")])
    other = FaultSet([FaultRule(model_id="stability.sd3-5-large-v1:0",
                                error="ThrottlingException")])
    assert by_arn.decide(CALL).rule is not None
    assert other.decide(CALL).rule is None


def test_operation_condition() -> None:
    faults = FaultSet([FaultRule(operation=INVOKE_STREAM, error="ThrottlingException")])
    assert faults.decide(CALL).rule is None
    assert faults.decide(CallFacts(INVOKE_STREAM, SDXL, ("x",))).rule is not None


def test_an_error_applies_only_where_the_model_declares_it() -> None:
    faults = FaultSet([FaultRule(error="ModelStreamErrorException")])
    assert faults.decide(CALL).rule is None
    assert faults.decide(CallFacts(INVOKE_STREAM, SDXL, ("x",))).rule is not None


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (FaultRule(nth=3, error="ThrottlingException"), [3]),
        (FaultRule(calls=(2, 4), error="ThrottlingException"), [2, 3, 4]),
        (FaultRule(every=3, error="ThrottlingException"), [3, 6, 9]),
        (FaultRule(every=2, times=2, error="ThrottlingException"), [2, 4]),
        (FaultRule(times=1, error="ThrottlingException"), [1]),
        (FaultRule(calls=(3, 9), every=2, times=2, error="ThrottlingException"), [4, 6]),
    ],
)
def test_call_count_conditions(rule: FaultRule, expected: list[int]) -> None:
    assert fired_calls(rule, 10) == expected


def test_calls_are_counted_only_when_the_other_conditions_hold() -> None:
    faults = FaultSet([FaultRule(prompt="fox", nth=2, error="ThrottlingException")])
    outcomes = [
        faults.decide(prompt_call(text)).rule is not None
        for text in ("fox 1", "cat", "cat", "fox 2", "fox 3")
    ]
    assert outcomes == [False, False, False, True, False]


def test_probability_is_deterministic_for_a_seed_and_roughly_that_often() -> None:
    rule = FaultRule(probability=0.3, seed=1234, error="ThrottlingException")
    first, again = fired_calls(rule, 400), fired_calls(rule, 400)
    assert first == again
    assert 80 <= len(first) <= 160
    other_seed = fired_calls(FaultRule(probability=0.3, seed=99, error="ThrottlingException"), 400)
    assert other_seed != first


@pytest.mark.parametrize(("probability", "count"), [(0, 0), (1, 50)])
def test_probability_bounds(probability: float, count: int) -> None:
    rule = FaultRule(probability=probability, error="ThrottlingException")
    assert len(fired_calls(rule, 50)) == count


def test_latency_rules_add_up_and_the_first_outcome_wins() -> None:
    faults = FaultSet([
        FaultRule(latency_ms=100, name="slow"),
        FaultRule(error="ThrottlingException", latency_ms=5, name="throttle"),
        FaultRule(error="ModelTimeoutException", name="never"),
        FaultRule(latency_ms=20, name="slower"),
    ])
    decision = faults.decide(CALL)
    assert decision.rule is not None and decision.rule.name == "throttle"
    assert decision.latency_ms == 125
    assert [rule.name for rule in decision.fired] == ["slow", "throttle", "slower"]
    assert [r["fired"] for r in faults.snapshot()] == [1, 1, 0, 1]


# -- actions through the app ----------------------------------------------------------------

def test_error_action_with_message_and_default_message() -> None:
    app = MockBedrock(faults=[
        FaultRule(prompt="quota", error="ServiceQuotaExceededException", message="over quota"),
        FaultRule(prompt="busy", error="ServiceUnavailableException"),
    ])
    client = Client(app)
    quota = invoke(client, sdxl_body(text_prompts=[{"text": "quota"}]))
    busy = invoke(client, sdxl_body(text_prompts=[{"text": "busy"}]))
    assert (quota.status_code, parse(quota)["Error"]) == (
        400, {"Code": "ServiceQuotaExceededException", "Message": "over quota"},
    )
    assert busy.status_code == 503
    assert "ServiceUnavailableException" in parse(busy)["Error"]["Message"]
    assert invoke(client).status_code == 200
    assert [e.outcome for e in app.journal.entries()] == [
        "ServiceQuotaExceededException", "ServiceUnavailableException", "SUCCESS",
    ]


def test_latency_action_waits_before_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(app_module.time, "sleep", slept.append)
    client = Client(MockBedrock(faults=[FaultRule(latency_ms=250)]))
    assert invoke(client).status_code == 200
    assert slept == [0.25]


def test_no_fault_no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(app_module.time, "sleep", slept.append)
    assert invoke(Client(MockBedrock())).status_code == 200
    assert slept == []


def image_parameters(response: Any) -> tuple[str, dict[str, Any]]:
    [art] = json.loads(response.data)["artifacts"]
    return art["finishReason"], read_parameters(base64.b64decode(art["base64"]))


def test_content_filtered_answers_a_blurred_image() -> None:
    client = Client(MockBedrock(faults=[FaultRule(finish_reason="CONTENT_FILTERED")]))
    reason, params = image_parameters(invoke(client))
    assert (reason, params["blurred"]) == ("CONTENT_FILTERED", True)


def test_finish_reason_error() -> None:
    client = Client(MockBedrock(faults=[FaultRule(finish_reason="ERROR")]))
    reason, params = image_parameters(invoke(client))
    assert (reason, params["blurred"]) == ("ERROR", False)


def test_finish_reason_reaches_the_stream_too() -> None:
    from tests.support.wsgi_app import stream_events

    client = Client(MockBedrock(faults=[FaultRule(finish_reason="CONTENT_FILTERED")]))
    output = b"".join(e["chunk"]["bytes"] for e in stream_events(invoke(client, stream=True)))
    assert json.loads(output)["artifacts"][0]["finishReason"] == "CONTENT_FILTERED"


def test_drop_connection_raises_for_the_door_and_is_journaled() -> None:
    app = MockBedrock(faults=[FaultRule(nth=1, drop_connection=True)])
    client = Client(app)
    with pytest.raises(DropConnection):
        invoke(client)
    assert invoke(client).status_code == 200
    assert [(e.status, e.outcome) for e in app.journal.entries()] == [
        (None, "DropConnection"), (200, "SUCCESS"),
    ]


def test_stream_error_rules_leave_invoke_model_alone() -> None:
    client = Client(MockBedrock(faults=[FaultRule(stream_error="ModelStreamErrorException")]))
    assert invoke(client).status_code == 200


def test_refused_calls_do_not_meet_the_rules() -> None:
    app = MockBedrock(faults=[FaultRule(nth=1, error="ThrottlingException")])
    client = Client(app)
    assert invoke(client, {"text_prompts": []}).status_code == 400
    assert invoke(client).status_code == 429


def test_rules_can_be_added_and_cleared_while_serving() -> None:
    app = MockBedrock()
    client = Client(app)
    app.faults.add(FaultRule(error="ThrottlingException", name="t"))
    assert invoke(client).status_code == 429
    assert app.journal.entries()[-1].faults == ["t"]
    app.faults.clear()
    assert invoke(client).status_code == 200


# -- rule data ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({}, "needs an action"),
        ({"error": "TeapotException"}, "'error' is 'TeapotException'; expected one of"),
        ({"error": "ThrottlingException", "drop_connection": True}, "at most one outcome"),
        ({"finish_reason": "SUCCESS"}, "expected one of: All of the generated images have been blocked by our content filters., Some of the generated images have been blocked by our content filters., Filter reason: prompt, Filter reason: output image, Filter reason: input image, Inference error, ERROR, CONTENT_FILTERED"),
        ({"stream_error": "AccessDeniedException"}, "'stream_error'"),
        ({"nth": 0, "latency_ms": 1}, "'nth' must be at least 1"),
        ({"every": True, "latency_ms": 1}, "'every' must be int"),
        ({"calls": [3, 1], "latency_ms": 1}, "'calls' must be [first, last]"),
        ({"calls": [1, 2, 3], "latency_ms": 1}, "two integers"),
        ({"probability": 1.5, "latency_ms": 1}, "between 0 and 1"),
        ({"latency_ms": -5}, "must not be negative"),
        ({"prompt_regex": "(", "latency_ms": 1}, "not a valid regex"),
        ({"prompt": 3, "latency_ms": 1}, "'prompt' must be str"),
        ({"operation": "Converse", "latency_ms": 1}, "'operation'"),
        ({"message": "hi", "latency_ms": 1}, "only goes with"),
        ({"latency": 5}, "unknown field(s) 'latency'"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(FaultRuleError) as caught:
        FaultRule.from_dict(fields)
    assert complaint in str(caught.value)


def test_rules_round_trip_through_json() -> None:
    rule = FaultRule(prompt="x", calls=(2, 5), probability=0.5, seed=3, error="ThrottlingException",
                     message="m", latency_ms=10, name="r")
    data = json.loads(json.dumps(rule.to_dict()))
    assert data["calls"] == [2, 5]
    assert "nth" not in data
    assert FaultRule.from_dict(data) == rule


def test_stream_error_accepts_the_member_name_and_stores_the_code() -> None:
    assert FaultRule(stream_error="throttlingException").stream_error == "ThrottlingException"


def test_load_file_adds_its_rules(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([
        {"prompt": "fox", "error": "ThrottlingException"},
        {"every": 2, "latency_ms": 50, "name": "slow"},
    ]))
    faults = FaultSet([FaultRule(nth=1, finish_reason="ERROR")])
    loaded = faults.load_file(path)
    assert [r.name for r in loaded] == [None, "slow"]
    assert len(faults.rules) == 3
    assert faults.rules[1] == FaultRule(prompt="fox", error="ThrottlingException")


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("[{]", "is not valid JSON"),
        ('{"error": "ThrottlingException"}', "must hold a JSON list of rule objects"),
        ('[{"latency_ms": 1}, "oops"]', "rule 1: a rule must be a JSON object"),
        ('[{"latency_ms": 1}, {"nth": -1, "latency_ms": 1}]', "rule 1: 'nth' must be at least"),
    ],
)
def test_bad_files_name_the_file_and_the_rule(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    faults = FaultSet()
    with pytest.raises(FaultRuleError) as caught:
        faults.load_file(path)
    assert str(path) in str(caught.value)
    assert complaint in str(caught.value)
    assert faults.rules == []  # nothing half-loaded


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaultRuleError, match="cannot read fault file"):
        FaultSet().load_file(tmp_path / "absent.json")


def test_decisions_are_counted_exactly_under_concurrency() -> None:
    faults = FaultSet([
        FaultRule(nth=1000, error="ThrottlingException"),
        FaultRule(every=10, times=37, latency_ms=1),
    ])
    fired: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(250):
            decision = faults.decide(CALL)
            with lock:
                fired.append(len(decision.fired))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters = faults.snapshot()
    assert [c["seen"] for c in counters] == [2000, 2000]
    assert [c["fired"] for c in counters] == [1, 37]
    assert sum(fired) == 38
