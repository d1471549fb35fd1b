"""Stubs: a rule that answers matching calls with the user's picture instead of the
placeholder (as the call asked for it, or as given), from Python, a --faults file and HTTP,
listed like fault rules and journaled as stubbed; through both doors with real boto3."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mock_bedrock.placeholder import read_parameters
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.faults import FaultRule, FaultRuleError
from tests.support.doors import Door
from tests.support.http_json import call_json

CORE = "stability.stable-image-core-v1:1"
SDXL = "stability.stable-diffusion-xl-v1"
JSON = "application/json"


def red_png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (220, 20, 20)).save(out, format="PNG")
    return out.getvalue()


RED = base64.b64encode(red_png()).decode()


def core_image(client: Any, prompt: str, **fields: Any) -> bytes:
    answer = client.invoke_model(modelId=CORE, contentType=JSON, accept=JSON,
                                 body=json.dumps({"prompt": prompt, **fields}))
    return base64.b64decode(json.loads(answer["body"].read())["images"][0])


def test_a_matching_call_gets_the_picture_as_it_asked_for_it(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule(prompt="fox", model_id=CORE, image=RED, name="red fox"))
    asked = {"aspect_ratio": "16:9", "output_format": "jpeg", "seed": 3}
    placeholder = core_image(client, "a cat", **asked)
    stubbed = core_image(client, "a fox", **asked)
    with Image.open(io.BytesIO(placeholder)) as made, Image.open(io.BytesIO(stubbed)) as got:
        assert (got.format, got.size) == (made.format, made.size) == ("JPEG", got.size)
        red, green, blue = got.convert("RGB").getpixel((got.width // 2, got.height // 2))
        assert red > 180 and green < 60 and blue < 60
    assert read_parameters(stubbed)["stubbed"] is True
    assert read_parameters(stubbed)["seed"] == 3  # still says which call it answered
    assert [(e.body["prompt"], e.outcome, e.faults) for e in door.app.journal.entries()] == [
        ("a cat", "success", []), ("a fox", "stubbed", ["red fox"])]


def test_as_given_is_the_bytes_themselves_also_in_a_stream(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule.stub(red_png(), as_given=True, model_id=SDXL))
    body = json.dumps({"text_prompts": [{"text": "a fox"}]})
    answer = client.invoke_model(modelId=SDXL, body=body, contentType=JSON, accept=JSON)
    artifact = json.loads(answer["body"].read())["artifacts"][0]
    assert base64.b64decode(artifact["base64"]) == red_png()
    assert artifact["finishReason"] == "SUCCESS"
    stream = client.invoke_model_with_response_stream(modelId=SDXL, body=body,
                                                      contentType=JSON, accept=JSON)
    chunks = b"".join(event["chunk"]["bytes"] for event in stream["body"])
    assert base64.b64decode(json.loads(chunks)["artifacts"][0]["base64"]) == red_png()


def test_a_faults_file_names_the_picture_by_a_path_beside_it(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "red.png").write_bytes(red_png())
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"prompt": "fox", "image_file": "pictures/red.png"}]))
    app = MockBedrock()
    [rule] = app.faults.load_file(rules)
    assert rule.picture == red_png()
    [listed] = app.faults.snapshot()
    assert listed["image"].startswith("<PNG 40x30, ")  # not the base64 itself
    rules.write_text(json.dumps([{"prompt": "fox", "image_file": "missing.png"}]))
    with pytest.raises(FaultRuleError, match=r"'image_file' '.*missing\.png' cannot be read"):
        app.faults.load_file(rules)


def post_rule(url: str, rule: dict[str, Any]) -> tuple[int, Any]:
    return call_json(f"{url}/_mock/faults", "POST", rule)


@pytest.mark.parametrize("door", ["server"], indirect=True)
def test_over_http_the_picture_is_in_the_body(door: Door, client: Any) -> None:
    assert door.endpoint_url is not None
    status, added = post_rule(door.endpoint_url, {"prompt": "fox", "image": RED})
    assert status == 201
    assert added["added"][0]["image"].startswith("<PNG 40x30, ")
    assert read_parameters(core_image(client, "a fox"))["stubbed"] is True
    status, refused = post_rule(door.endpoint_url, {"prompt": "fox", "image_file": "/etc/hosts"})
    assert status == 400
    assert "'image_file' is read from a --faults file only" in refused["message"]


@pytest.mark.parametrize(("image", "refusal"), [
    ("not base64!", "'image' must be base64"),
    (base64.b64encode(b"GIF89a not really").decode(), "'image' is not a PNG, JPEG or WebP"),
])
def test_a_stub_that_is_no_picture_is_refused(image: str, refusal: str) -> None:
    with pytest.raises(FaultRuleError, match=refusal):
        FaultRule(image=image)


def test_image_as_is_requested_or_given() -> None:
    with pytest.raises(FaultRuleError, match="'image_as' is 'raw'; expected one of"):
        FaultRule(image=RED, image_as="raw")
    with pytest.raises(FaultRuleError, match="'image_as' only goes with 'image'"):
        FaultRule(error="ThrottlingException", image_as="given")
    with pytest.raises(FaultRuleError, match="at most one outcome"):
        FaultRule(image=RED, error="ThrottlingException")
