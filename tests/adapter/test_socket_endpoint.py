"""The client against the mock served on a loopback port: an ``http://`` endpoint."""

from __future__ import annotations

import json

import pytest

from sdxl_adapter import errors
from sdxl_adapter.client import SDXLClient
from sdxl_adapter.request import SDXLRequest

REQUEST = SDXLRequest(prompt="a lighthouse", size=(1344, 768), seed=78)


def test_over_a_socket(mock_bedrock_endpoint: str) -> None:
    with SDXLClient(mock_bedrock_endpoint, max_attempts=1) as sdxl:
        assert sdxl.endpoint_url == mock_bedrock_endpoint
        plain = sdxl.generate(SDXLRequest.from_body(json.dumps(REQUEST.to_body())))
        streamed = sdxl.generate_streaming(REQUEST)
    assert streamed.png == plain.png and plain.size == (1344, 768)


def test_a_service_error_over_a_socket(mock_bedrock_endpoint: str) -> None:
    retired = "stability.stable-diffusion-xl-v0"
    with (
        SDXLClient(mock_bedrock_endpoint, model_id=retired) as sdxl,
        pytest.raises(errors.ResourceNotFoundException) as caught,
    ):
        sdxl.generate(REQUEST)
    assert caught.value.http_status == 404 and caught.value.request_id
    assert "end of its life" in caught.value.message
