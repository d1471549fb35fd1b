"""What ``prompt_regex`` patterns may cost together: their programs within a budget (a rule
set past it refused whole, naming the rule), each pattern within RE2's memory bound, a call's
prompts matched up to a bound, and removed patterns freed."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
import re2
from botocore.exceptions import ClientError
from werkzeug.test import Client

from mock_bedrock.service import fault_regex
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.fault_regex import (
    MAX_MATCHED_CHARS,
    MAX_REGEX_RULES,
    REGEX_PROGRAM_BUDGET,
)
from mock_bedrock.service.faults import FaultRule, FaultRuleError
from tests.support.doors import Door
from tests.support.wsgi_app import invoke

# Linear, but about 900 instructions each: RE2 walks them all for every byte of a prompt.
SLOW = "[ab]*a[ab]{{900}}c{index}"


def rules(pattern: str, count: int) -> list[dict[str, Any]]:
    return [{"prompt_regex": pattern.format(index=i), "error": "ThrottlingException",
             "name": f"slow {i}"} for i in range(count)]


def test_patterns_past_the_program_budget_are_refused_whole_naming_the_rule() -> None:
    app = MockBedrock()
    client = Client(app)
    answer = client.post("/_mock/faults", json=rules(SLOW, 1000))
    assert answer.status_code == 400
    message = answer.json["message"]
    fitting = REGEX_PROGRAM_BUDGET // 908  # each compiles to 908 instructions
    assert message.startswith(f"POST /_mock/faults: rule {fitting} ('slow {fitting}'): ")
    assert f"compiles to 908 RE2 instructions; the rules in force may hold " \
           f"{REGEX_PROGRAM_BUDGET} in all" in message
    assert app.faults.rules == []  # all or none
    # What fits is taken, and the rules in force count against the next POST.
    assert client.post("/_mock/faults", json=rules(SLOW, fitting)).status_code == 201
    one_more = client.post("/_mock/faults",
                           json={"prompt_regex": "[ab]*a[ab]{900}d", "error": "ThrottlingException"})
    assert one_more.status_code == 400
    assert f"{fitting * 908} are taken" in one_more.json["message"]
    assert len(app.faults.rules) == fitting
    with pytest.raises(FaultRuleError, match="rule 0: 'prompt_regex'"):
        app.faults.add(FaultRule(prompt_regex="[ab]*a[ab]{900}e", error="ThrottlingException"))


def test_the_number_of_rules_with_patterns_is_bounded() -> None:
    app = MockBedrock()
    client = Client(app)
    tiny = [{"prompt_regex": f"x{i}", "error": "ThrottlingException"}
            for i in range(MAX_REGEX_RULES)]
    assert client.post("/_mock/faults", json=tiny).status_code == 201
    answer = client.post("/_mock/faults", json={"prompt_regex": "y", "latency_ms": 1})
    assert answer.status_code == 400
    assert f"at most {MAX_REGEX_RULES} rules with a 'prompt_regex'" in answer.json["message"]
    # Rules without a pattern are not counted.
    assert client.post("/_mock/faults", json={"prompt": "y", "latency_ms": 1}).status_code == 201


def test_a_pattern_too_big_for_its_memory_is_refused_before_anything_is_kept() -> None:
    client = Client(MockBedrock())
    answer = client.post("/_mock/faults", json=rules("(?:\\pL){{55}}#{index}", 1000))
    assert answer.status_code == 400
    assert answer.json["message"].startswith("POST /_mock/faults: rule 0 ('slow 0'): ")
    assert "pattern too large" in answer.json["message"]
    assert f"must fit in {fault_regex.REGEX_MAX_MEM // 1024} KiB" in answer.json["message"]


def _live_patterns(marker: str) -> list[Any]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, re2._Regexp) and marker in o.pattern]


def test_the_patterns_of_removed_rules_are_freed() -> None:
    app = MockBedrock()
    client = Client(app)
    marker = "freed-after-delete"
    added = client.post("/_mock/faults", json=[
        {"prompt_regex": f"{marker}{i}|\\pL{{2}}z", "latency_ms": 1} for i in range(2)])
    assert added.status_code == 201
    assert invoke(client).status_code == 200  # matched once
    assert len(_live_patterns(marker)) == 2
    assert client.delete("/_mock/faults").status_code == 200
    assert _live_patterns(marker) == []


def _sdxl_call(client: Any, prompts: list[str]) -> int:
    body = {"text_prompts": [{"text": text} for text in prompts], "steps": 10}
    try:
        client.invoke_model(modelId="stability.stable-diffusion-xl-v1", body=json.dumps(body))
    except ClientError as err:
        status: int = err.response["ResponseMetadata"]["HTTPStatusCode"]
        return status
    return 200


def test_a_calls_prompts_are_matched_up_to_the_bound(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule(prompt_regex="needle", error="ThrottlingException"))
    filler = "x" * 2_000  # SDXL's longest prompt
    within = MAX_MATCHED_CHARS // len(filler)
    assert _sdxl_call(client, [filler] * (within - 1) + ["needle" + filler[6:]]) == 429
    assert _sdxl_call(client, [filler] * within + ["needle"]) == 200
    # A plain-text condition still looks at every prompt: it costs no more than reading it.
    door.app.faults.clear()
    door.app.faults.add(FaultRule(prompt="needle", error="ThrottlingException"))
    assert _sdxl_call(client, [filler] * within + ["needle"]) == 429
