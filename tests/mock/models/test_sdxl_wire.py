"""The mock over the wire, through both doors, with real boto3 clients.

Every test here takes ``door``, so it runs once against the in-process botocore hook and
once against the HTTP server: a behaviour that works in one door works in the other.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EventStreamError
from botocore.retries.standard import ExponentialBackoff
from PIL import Image, ImageChops, ImageDraw

from mock_bedrock.doors.inprocess import MockHandle
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from tests.support import sdxl_contract as sdxl
from tests.support.doors import SESSION, Door

MODEL_ID = "stability.stable-diffusion-xl-v1"
ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL_ID}"
# The seed document's sample program, verbatim: its body, model id, accept and content type.
SAMPLE_BODY = json.dumps({
    "text_prompts": [{"text": "Sri lanka tea plantation."}],
    "cfg_scale": 10,
    "seed": 0,
    "steps": 50,
    "samples": 1,
    "style_preset": "photographic",
})
SEEDED = {"text_prompts": [{"text": "a lighthouse at dusk"}], "seed": 42, "steps": 30}
@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries still happen, botocore just doesn't sleep between them (keeps the suite fast).
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def invoke(client: Any, body: dict[str, Any] | str, model_id: str = MODEL_ID) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response: dict[str, Any] = client.invoke_model(
        body=raw, modelId=model_id, accept="application/json", contentType="application/json"
    )
    return response


def invoke_bytes(client: Any, body: dict[str, Any] | str, model_id: str = MODEL_ID) -> bytes:
    data: bytes = invoke(client, body, model_id)["body"].read()
    return data


def decoded_image(payload: bytes) -> Image.Image:
    body = sdxl.check_response(payload)
    image = Image.open(io.BytesIO(base64.b64decode(body["artifacts"][0]["base64"])))
    image.load()
    return image


def stream_chunks(client: Any, body: dict[str, Any], model_id: str = MODEL_ID) -> list[bytes]:
    response = client.invoke_model_with_response_stream(
        body=json.dumps(body), modelId=model_id, accept="application/json",
        contentType="application/json",
    )
    return [event["chunk"]["bytes"] for event in response["body"]]


def refusal_message(body: object) -> str:
    with pytest.raises(sdxl.InvalidRequestBody) as refused:
        sdxl.check_request(body)  # type: ignore[arg-type]
    return refused.value.message


# --- the happy path ---------------------------------------------------------------------


def test_sample_program_request_gives_a_1024_png(client: Any) -> None:
    response = invoke(client, SAMPLE_BODY)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["contentType"] == "application/json"
    payload = response["body"].read()
    body = json.loads(payload)
    assert body["result"] == "success"
    assert body["artifacts"][0]["finishReason"] == "SUCCESS"
    image = decoded_image(payload)
    assert (image.format, image.size) == ("PNG", (1024, 1024))


@pytest.mark.parametrize("size", sdxl.allowed_sizes(), ids="{0[0]}x{0[1]}".format)
def test_every_allowed_size_gives_that_size(client: Any, size: tuple[int, int]) -> None:
    width, height = size
    payload = invoke_bytes(client, {**SEEDED, "width": width, "height": height})
    assert decoded_image(payload).size == size


def test_same_request_gives_the_same_bytes(client: Any) -> None:
    assert invoke_bytes(client, SEEDED) == invoke_bytes(client, SEEDED)


def test_both_doors_answer_byte_for_byte_alike(
    mock_bedrock: MockHandle, mock_bedrock_server: MockServer
) -> None:
    inprocess = Door("inprocess", mock_bedrock.app, None).client()
    server = Door("server", mock_bedrock_server.app, mock_bedrock_server.endpoint_url).client()
    assert invoke_bytes(inprocess, SEEDED) == invoke_bytes(server, SEEDED)
    assert stream_chunks(inprocess, SEEDED) == stream_chunks(server, SEEDED)
    bad = {"text_prompts": [{"text": "x"}], "steps": 1}
    errors = []
    for bedrock in (inprocess, server):
        with pytest.raises(ClientError) as refused:
            invoke(bedrock, bad)
        errors.append(refused.value.response["Error"])
    assert errors[0] == errors[1]


def test_seed_zero_reports_the_non_zero_seed_it_used(client: Any) -> None:
    for body in ({**SEEDED, "seed": 0}, {"text_prompts": [{"text": "no seed given"}]}):
        seed = json.loads(invoke_bytes(client, body))["artifacts"][0]["seed"]
        assert seed != 0
        # The reported seed reproduces the image.
        again = invoke_bytes(client, {**body, "seed": seed})
        assert json.loads(again)["artifacts"][0]["seed"] == seed


def test_arn_model_id_serves_the_same_model(client: Any) -> None:
    assert invoke_bytes(client, SEEDED, ARN) == invoke_bytes(client, SEEDED, MODEL_ID)
    assert b"".join(stream_chunks(client, SEEDED, ARN)) == invoke_bytes(client, SEEDED)


def test_stream_carries_the_same_json_as_invoke(client: Any) -> None:
    chunks = stream_chunks(client, SEEDED)
    assert chunks
    assert json.loads(b"".join(chunks)) == json.loads(invoke_bytes(client, SEEDED))


# --- refusals ---------------------------------------------------------------------------


INVALID_BODIES = {
    "steps below minimum": {"text_prompts": [{"text": "x"}], "steps": 5},
    "no text_prompts": {"cfg_scale": 7},
    "unknown key": {"text_prompts": [{"text": "x"}], "negative_prompt": "y"},
    "size pair not allowed": {"text_prompts": [{"text": "x"}], "width": 1024, "height": 512},
    "several violations": {"text_prompts": [], "cfg_scale": 99, "sampler": "EULER"},
}


@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_body_is_a_validation_exception_in_bedrock_words(
    client: Any, body: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as refused:
        invoke(client, body)
    response = refused.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["Error"]["Message"] == refusal_message(body)
    assert response["Error"]["Message"].startswith("Malformed input request: #")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    request_id = response["ResponseMetadata"]["RequestId"]
    assert request_id
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id


def test_body_that_is_not_json_is_refused(client: Any) -> None:
    with pytest.raises(ClientError) as refused:
        invoke(client, "{not json")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"] == refusal_message("{not json")


@pytest.mark.parametrize(
    ("model_id", "code", "message", "status"),
    [
        ("stability.stable-diffusion-xl-v0", "ResourceNotFoundException",
         "This model version has reached the end of its life. Please refer to the AWS "
         "documentation for more details.", 404),
        ("stability.stable-diffusion-xl", "ResourceNotFoundException",
         "This model version has reached the end of its life. Please refer to the AWS "
         "documentation for more details.", 404),
        ("stability.sdxl-v9", "ValidationException",
         "The provided model identifier is invalid.", 400),
    ],
)
def test_retired_and_unknown_model_ids(
    client: Any, model_id: str, code: str, message: str, status: int
) -> None:
    for call in (invoke, stream_chunks):
        with pytest.raises(ClientError) as refused:
            call(client, SEEDED, model_id)
        error = refused.value.response
        assert (error["Error"]["Code"], error["Error"]["Message"]) == (code, message)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == status


# --- faults -----------------------------------------------------------------------------


def _declared_errors() -> list[tuple[str, int]]:
    shapes = SESSION._session.get_service_model("bedrock-runtime").operation_model(
        "InvokeModel").error_shapes
    return sorted((s.name, s.metadata["error"]["httpStatusCode"]) for s in shapes)


@pytest.mark.parametrize(("code", "status"), _declared_errors(), ids=lambda v: str(v))
def test_injected_error_reaches_the_client_as_that_error(
    door: Door, client: Any, code: str, status: int
) -> None:
    door.app.faults.add(FaultRule(error=code, times=1))
    with pytest.raises(ClientError) as failed:
        invoke(client, SEEDED)
    assert failed.value.response["Error"]["Code"] == code
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert invoke_bytes(client, SEEDED)  # the rule fired once; the next call is served


@pytest.mark.usefixtures("no_backoff")
def test_throttling_is_retried_by_botocore(door: Door) -> None:
    door.app.faults.add(FaultRule(error="ThrottlingException", times=2))
    bedrock = door.client(Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    response = invoke(bedrock, SEEDED)
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [e.outcome for e in door.app.journal.entries()] == [
        "ThrottlingException", "ThrottlingException", "SUCCESS"]


def test_throttling_beyond_the_retry_budget_surfaces(door: Door, no_backoff: None) -> None:
    door.app.faults.add(FaultRule(error="ThrottlingException"))
    bedrock = door.client(Config(retries={"total_max_attempts": 2, "mode": "standard"}))
    with pytest.raises(ClientError) as throttled:
        invoke(bedrock, SEEDED)
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert len(door.app.journal) == 2


def test_dropped_connection_is_botocores_connection_error(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule(drop_connection=True, times=1))
    with pytest.raises(ConnectionClosedError):
        invoke(client, SEEDED)
    assert invoke_bytes(client, SEEDED)


@pytest.mark.usefixtures("no_backoff")
def test_dropped_connection_is_retried_by_botocore(door: Door) -> None:
    door.app.faults.add(FaultRule(drop_connection=True, times=1))
    bedrock = door.client(Config(retries={"total_max_attempts": 2, "mode": "standard"}))
    response = invoke(bedrock, SEEDED)
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [e.outcome for e in door.app.journal.entries()] == ["DropConnection", "SUCCESS"]


@pytest.mark.parametrize("reason", ["CONTENT_FILTERED", "ERROR"])
def test_forced_finish_reason_reaches_the_client(door: Door, client: Any, reason: str) -> None:
    door.app.faults.add(FaultRule(finish_reason=reason))
    for payload in (invoke_bytes(client, SEEDED), b"".join(stream_chunks(client, SEEDED))):
        body = sdxl.check_response(payload)
        assert body["artifacts"][0]["finishReason"] == reason


def test_stream_error_event_is_raised_while_iterating(door: Door, client: Any) -> None:
    door.app.faults.add(FaultRule(stream_error="ModelStreamErrorException", message="boom"))
    response = client.invoke_model_with_response_stream(
        body=json.dumps(SEEDED), modelId=MODEL_ID, contentType="application/json")
    received = []
    with pytest.raises(EventStreamError) as failed:
        for event in response["body"]:
            received.append(event)
    # An exception event names its union member (":exception-type"), and botocore reports
    # that name as the code, as it does for the real service.
    assert failed.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert failed.value.response["Error"]["Message"] == "boom"
    assert [list(event) for event in received] == [["chunk"]]  # the error came mid-stream


# --- image to image ---------------------------------------------------------------------


def _png_b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_masking_keeps_unmasked_pixels_byte_identical(client: Any) -> None:
    init = Image.linear_gradient("L").resize((1024, 1024)).convert("RGB")
    ImageDraw.Draw(init).ellipse((100, 600, 400, 900), fill=(200, 30, 60))
    mask = Image.new("L", (1024, 1024), 0)
    ImageDraw.Draw(mask).rectangle((256, 256, 767, 767), fill=255)  # white: replace
    body = {
        "text_prompts": [{"text": "a red door"}], "seed": 7,
        "init_image": _png_b64(init), "mask_source": "MASK_IMAGE_WHITE",
        "mask_image": _png_b64(mask),
    }
    out = decoded_image(invoke_bytes(client, body)).convert("RGB")
    assert out.size == init.size
    changed = ImageChops.difference(out, init).convert("L").point(lambda v: 255 if v else 0)
    # Every changed pixel lies inside the white part of the mask...
    assert ImageChops.subtract(changed, mask).getbbox() is None
    # ...and the masked part did change, so the comparison can fail.
    assert changed.getbbox() is not None


# --- living with moto -------------------------------------------------------------------


def test_coexists_with_moto_and_the_image_uploads_to_s3(door: Door) -> None:
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="generated")
        extra = {} if door.endpoint_url is None else {"endpoint_url": door.endpoint_url}
        bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", **extra)
        payload = invoke_bytes(bedrock, SEEDED)
        png = base64.b64decode(json.loads(payload)["artifacts"][0]["base64"])
        s3.put_object(Bucket="generated", Key="lighthouse.png", Body=png)
        stored = s3.get_object(Bucket="generated", Key="lighthouse.png")["Body"].read()
        assert stored == png
        assert Image.open(io.BytesIO(stored)).size == (1024, 1024)
        # The stream operation (which moto's own bedrock-runtime stub lacks) is ours too.
        assert b"".join(stream_chunks(bedrock, SEEDED)) == payload
    assert len(door.app.journal) == 2


# --- the endpoint variable only ----------------------------------------------------------


def generate_image(model_id: str, body: str) -> bytes:
    """The seed document's sample program's function, unchanged: it builds a plain client
    and knows nothing about a mock."""
    bedrock = boto3.client(service_name="bedrock-runtime")
    accept = "application/json"
    content_type = "application/json"
    response = bedrock.invoke_model(
        body=body, modelId=model_id, accept=accept, contentType=content_type
    )
    response_body = json.loads(response.get("body").read())
    base64_image = response_body.get("artifacts")[0].get("base64")
    image_bytes = base64.b64decode(base64_image.encode("ascii"))
    finish_reason = response_body.get("artifacts")[0].get("finishReason")
    assert finish_reason not in ("ERROR", "CONTENT_FILTERED")
    return image_bytes


def test_sample_program_reaches_the_server_through_the_endpoint_variable(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer
) -> None:
    image = Image.open(io.BytesIO(generate_image(MODEL_ID, SAMPLE_BODY)))
    assert (image.format, image.size) == ("PNG", (1024, 1024))
    [entry] = mock_bedrock_server.journal.entries()
    assert entry.operation == "InvokeModel"
