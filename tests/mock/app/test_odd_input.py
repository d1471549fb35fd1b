"""Odd but well-formed input the mock must answer as the service would, never with a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_contract import InvalidRequestBody, check_request, contract_for
from bedrock_contract.validation import MAX_CONTAINERS

CORE = "stability.stable-image-core-v1:1"
SDXL = "stability.stable-diffusion-xl-v1"


@pytest.mark.parametrize(("model_id", "body"), [
    (CORE, b'{"prompt": "a \\ud800 b"}'),
    (CORE, b'{"prompt": "a \\udfff b", "output_format": "jpeg"}'),
    (SDXL, b'{"text_prompts": [{"text": "\\ud83d alone"}]}'),
])
def test_a_lone_surrogate_in_a_prompt_is_answered_with_an_image(
    client: Any, model_id: str, body: bytes
) -> None:
    # JSON may escape a lone surrogate; everit counts it as one character, so the body is
    # valid and the mock draws it (UTF-8 cannot encode it: it used to fail with a 500).
    answer = client.invoke_model(modelId=model_id, body=body,
                                 contentType="application/json", accept="application/json")
    payload = json.loads(answer["body"].read())
    images = payload.get("images") or [a["base64"] for a in payload["artifacts"]]
    assert len(images) == 1 and images[0]


def test_a_body_of_millions_of_arrays_is_refused_unparsed() -> None:
    # 24 MB of "[]," parsed would be eight million lists (gigabytes in the validator).
    raw = '{"prompt": "x", "seed": [' + ",".join(["[]"] * (MAX_CONTAINERS + 1)) + "]}"
    with pytest.raises(InvalidRequestBody) as caught:
        check_request(contract_for(CORE), raw)
    assert caught.value.message == \
        "Malformed input request, please reformat your input and try again."
    assert "more than 100,000 arrays and objects" in str(caught.value.violations[0])


def test_the_server_refuses_a_huge_array_body_with_a_400(client: Any) -> None:
    body = ('{"prompt": "x", "seed": [' + ",".join(["[]"] * (MAX_CONTAINERS + 1)) + "]}")
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=CORE, body=body.encode(),
                            contentType="application/json", accept="application/json")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
