"""The client end to end against the in-process mock (``endpoint="mock"``), with the mock's
faults standing in for the service misbehaving. (Over a socket: tests/adapter/test_socket_endpoint.py, kept
apart because the in-process mock answers every bedrock-runtime call while it is active.)"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import botocore.endpoint
import pytest

from mock_bedrock.service.faults import FaultRule
from sdxl_adapter import errors
from sdxl_adapter.client import SDXLClient
from sdxl_adapter.errors import ContentFiltered, InvalidRequest
from sdxl_adapter.pngtext import read_png_text
from sdxl_adapter.request import SDXLRequest
from sdxl_adapter.result import read_parameters
from tests.support.images import image_bytes

REQUEST = SDXLRequest(prompt="a lighthouse", negative_prompt="fog", size=(1344, 768), steps=20)


@pytest.fixture(scope="module")
def mock_client() -> Iterator[SDXLClient]:
    # One for the module: building the mock's app and a boto3 client takes a moment.
    with SDXLClient("mock", max_attempts=1) as client:
        yield client


@pytest.fixture
def sdxl(mock_client: SDXLClient) -> SDXLClient:
    mock_client.mock.faults.clear()
    mock_client.mock.journal.clear()
    return mock_client


def test_text_to_image_in_process(sdxl: SDXLClient, tmp_path: Path) -> None:
    result = sdxl.generate(REQUEST)
    assert result.finish_reason == "SUCCESS" and result.seed > 0
    assert result.size == (1344, 768)
    [call] = sdxl.mock.journal.entries()
    assert call.body == REQUEST.to_body()
    assert call.request_id == result.request_id
    saved = result.save(tmp_path / "out.png")
    assert read_parameters(saved)["prompt"] == "a lighthouse"
    # The mock's own chunk is still there beside ours.
    assert set(read_png_text(result.png)) < set(read_png_text(saved))


def test_streaming_gives_the_same_image_as_a_plain_call(sdxl: SDXLClient) -> None:
    seeded = SDXLRequest.from_body({**REQUEST.to_body(), "seed": 77})
    first = sdxl.generate(seeded)
    again = sdxl.generate_streaming(seeded)
    assert again.png == first.png and again.seed == first.seed == 77
    assert [c.operation for c in sdxl.mock.journal.entries()] == [
        "InvokeModel", "InvokeModelWithResponseStream"
    ]


def test_image_to_image_and_masking(sdxl: SDXLClient) -> None:
    init = image_bytes((896, 1152))
    edited = sdxl.generate(SDXLRequest(prompt="in ink", init_image=init, image_strength=0.5))
    assert edited.size == (896, 1152)
    mask = image_bytes((896, 1152), mode="L", color=255)
    masked = sdxl.generate(
        SDXLRequest(prompt="a door", init_image=init, mask_source="MASK_IMAGE_WHITE", mask_image=mask)
    )
    assert masked.size == (896, 1152)


def test_an_invalid_request_never_reaches_the_mock(sdxl: SDXLClient) -> None:
    with pytest.raises(InvalidRequest, match=r"#/cfg_scale: 99 is not less or equal to 35"):
        sdxl.generate(SDXLRequest(prompt="x", cfg_scale=99))
    assert sdxl.mock.journal.entries() == []


def test_the_services_own_refusal_of_an_unchecked_body(sdxl: SDXLClient) -> None:
    with pytest.raises(errors.ValidationException) as caught:
        sdxl.invoke_body(b'{"text_prompts": [{"text": "x"}], "steps": 5}', validate=False)
    assert caught.value.message == (
        "Malformed input request: #/steps: 5 is not greater or equal to 10, "
        "please reformat your input and try again."
    )
    assert caught.value.http_status == 400 and caught.value.request_id


def test_an_unknown_model_id_is_the_services_validation_error() -> None:
    with SDXLClient("mock", model_id="stability.nope") as sdxl, pytest.raises(
        errors.ValidationException, match=r"The provided model identifier is invalid\."
    ):
        sdxl.generate(REQUEST)


def test_content_filtered_by_the_mock(sdxl: SDXLClient) -> None:
    sdxl.mock.faults.add(FaultRule(prompt="lighthouse", finish_reason="CONTENT_FILTERED"))
    with pytest.raises(ContentFiltered) as caught:
        sdxl.generate(REQUEST)
    assert caught.value.result.size == (1344, 768)


def test_throttling_is_retried_by_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []  # botocore's back-off, recorded instead of slept
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=slept.append))
    with SDXLClient("mock", max_attempts=3) as sdxl:
        sdxl.mock.faults.add(FaultRule(error="ThrottlingException", times=2))
        result = sdxl.generate(REQUEST)
        outcomes = [c.outcome for c in sdxl.mock.journal.entries()]
    assert result.finish_reason == "SUCCESS"
    assert len(outcomes) == 3 and outcomes[-1] == "SUCCESS"
    assert len(slept) == 2


def test_a_stream_error_from_the_mock(sdxl: SDXLClient) -> None:
    sdxl.mock.faults.add(FaultRule(stream_error="modelStreamErrorException"))
    with pytest.raises(errors.ModelStreamErrorException) as caught:
        sdxl.generate_streaming(REQUEST)
    assert caught.value.request_id == sdxl.mock.journal.entries()[0].request_id
