"""The model's own check of field names, after (or before) Bedrock's schema check.

The service checks a body twice: Bedrock's schema check (everit's words, "Malformed input
request: ...") and the model's own check, which refuses a field outside its list with
``{"detail":"Invalid field '<field>' in request. Available fields for <label> are: ..."}``
as the ValidationException's message. What each test pins is what the live service was
seen to answer; the sources are in ``schemas/service.json`` and each profile's
``field_check``.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from bedrock_contract import InvalidRequestBody, check_request, default_catalogue
from bedrock_contract.paths import FieldPath
from tests.support.images import b64_image

CATALOGUE = default_catalogue()
LIVE = sorted((c for c in CATALOGUE if c.field_check is not None), key=lambda c: c.family)

CONTROL_SKETCH = "us.stability.stable-image-control-sketch-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
CORE = "stability.stable-image-core-v1:1"


def refused(client: Any, model_id: str, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=model_id, body=json.dumps(body))
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationException"
    message: str = error["Message"]
    return message


def valid_body(family: str) -> dict[str, Any]:
    """A body every check takes: the required fields, images small and legal."""
    contract = CATALOGUE.family(family)
    body: dict[str, Any] = {}
    for name in contract.required:
        image = FieldPath((name,)) in contract.image_fields
        body[name] = b64_image((64, 64)) if image else "a lighthouse"
    if family == "stable-outpaint":
        body["left"] = 64
    return body


# --- the answers seen from the live service, reproduced -------------------------------------


def test_control_sketch_answers_an_sdxl_body_as_the_live_service_did(
    client: Any, mock_bedrock_endpoint: str
) -> None:
    # aws-samples/amazon-bedrock-client-for-mac issue 121 (2025-10-20): the client's v1.3.17
    # sent SDXL's body to Control Sketch; no prompt and no image, yet the field check answered.
    body = {"text_prompts": [{"text": "big dog"}], "cfg_scale": 10, "seed": 0, "steps": 50,
            "samples": 1, "style_preset": "photographic"}
    seen = ('{"detail":"Invalid field \'text_prompts\' in request. Available fields for '
            'control-sketch are: image, prompt, control_strength, negative_prompt, seed, '
            'output_format, style_preset"}')
    assert refused(client, CONTROL_SKETCH, body) == seen
    # Byte for byte: the live answer's Content-Length was 196.
    url = urlsplit(mock_bedrock_endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request("POST", "/model/us.stability.stable-image-control-sketch-v1%3A0/invoke",
                       body=json.dumps(body), headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    assert answer.status == 400
    assert answer.getheader("Content-Length") == "196"
    assert answer.read() == json.dumps({"message": seen}, separators=(",", ":")).encode()
    connection.close()


def test_ultra_names_a_field_outside_its_list_as_the_live_service_did(client: Any) -> None:
    # BerriAI/litellm issue 8946 (2025-03-02): litellm leaked aws_region_name into the body.
    message = refused(client, ULTRA, {"prompt": "a fox", "aws_region_name": "us-west-2"})
    assert message == (
        '{"detail":"Invalid field \'aws_region_name\' in request. Available fields for ultra '
        'are: prompt, negative_prompt, mode, strength, seed, output_format, image, '
        'aspect_ratio"}'
    )


@pytest.mark.parametrize("model_id", [CORE, ULTRA])
def test_core_and_ultra_check_the_schema_first(client: Any, model_id: str) -> None:
    # strands-agents/tools issue 75 (Core v1:1, 2025-06-07) and BerriAI/litellm issue 6722
    # (Ultra, 2024-11-13): SDXL's body, five fields outside the list and no prompt, was
    # answered with the schema check's words alone.
    body = {"text_prompts": [{"text": "A futuristic city with flying cars"}],
            "style_preset": "photographic", "seed": 123456, "cfg_scale": 10, "steps": 30}
    assert refused(client, model_id, body) == (
        "Malformed input request: #: required key [prompt] not found, please reformat your "
        "input and try again."
    )


# --- every live family ------------------------------------------------------------------------


@pytest.mark.parametrize("contract", LIVE, ids=[c.family for c in LIVE])
def test_every_live_family_refuses_a_field_outside_its_list(client: Any, contract: Any) -> None:
    body = {**valid_body(contract.family), "no_such_field": 1}
    message = refused(client, contract.invocation_id, body)
    detail = json.loads(message)["detail"]
    assert detail.startswith(
        f"Invalid field 'no_such_field' in request. Available fields for "
        f"{contract.field_check.label} are: ")
    listed = detail.rsplit(" are: ", 1)[1].split(", ")
    assert listed == list(contract.properties)  # the schema's fields, in its order
    # The client refuses it before sending, with the very same message.
    with pytest.raises(InvalidRequestBody) as local:
        check_request(contract, body)
    assert local.value.message == message


@pytest.mark.parametrize("contract", LIVE, ids=[c.family for c in LIVE])
def test_a_schema_violation_and_an_unknown_field_get_the_checks_answer_in_order(
    client: Any, contract: Any
) -> None:
    # A required field missing and a field outside the list: the generation models answer
    # with the schema check (strands #75, litellm #6722), the Image Services with the field
    # check (Control Sketch, amazon-bedrock-client-for-mac #121).
    body = {**valid_body(contract.family), "zzz": 1}
    missing = contract.required[0]
    del body[missing]
    message = refused(client, contract.invocation_id, body)
    if contract.field_check.before_schema:
        assert json.loads(message)["detail"].startswith("Invalid field 'zzz' in request.")
    else:
        assert message.startswith(f"Malformed input request: #: required key [{missing}] "
                                  "not found")


def test_the_first_field_outside_the_list_in_the_body_is_named(client: Any) -> None:
    for order in (["steps", "cfg_scale"], ["cfg_scale", "steps"]):
        body = {"prompt": "x", **{name: 30 for name in order}}
        assert f"Invalid field '{order[0]}'" in refused(client, CORE, body)


def test_sdxl_keeps_the_schema_checks_words_for_an_unknown_key(client: Any) -> None:
    # SDXL validated its bodies strictly in the schema check (../shared/CONTRACT.md).
    message = refused(client, "stability.stable-diffusion-xl-v1",
                      {"text_prompts": [{"text": "x"}], "prompt": "x"})
    assert message == ("Malformed input request: #: extraneous key [prompt] is not permitted, "
                       "please reformat your input and try again.")
