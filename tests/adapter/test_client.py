"""The client against botocore at the HTTP level: real boto3 clients whose prepared requests
are answered by a ``before-send`` stub, so botocore's own parsing, error mapping, event-stream
decoding and retries run unchanged."""

from __future__ import annotations

import base64
import io
import json
import socket
import types
from collections import deque
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.endpoint
import pytest
import urllib3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto.core.eventstream import EventStreamEncoder

from bedrock_contract.service import service_model
from sdxl_adapter import errors
from sdxl_adapter.client import PLACEHOLDER_CREDENTIALS, SDXLClient
from sdxl_adapter.errors import (
    BedrockError,
    ClientConfigError,
    ConnectionFailed,
    ContentFiltered,
    ContractDrift,
    CredentialsMissing,
    GenerationFailed,
    InvalidRequest,
)
from sdxl_adapter.models import SDXL_MODEL_ID
from sdxl_adapter.request import SDXLRequest
from tests.support.images import image_bytes

# Nothing listens on the discard port of loopback: a request that slipped past the stub fails
# locally instead of going anywhere.
UNREACHABLE = "http://127.0.0.1:9"
NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
SERVICE = service_model()
PNG = image_bytes((1024, 1024))
REQUEST = SDXLRequest(prompt="a lighthouse", negative_prompt="fog", seed=5)


def http_response(
    status: int, body: bytes, headers: dict[str, str], url: str = UNREACHABLE
) -> AWSResponse:
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(body), headers=headers, status=status, preload_content=False
    )
    return AWSResponse(url, status, headers, raw)


def model_body(
    *, seed: int = 1234, image: bytes = PNG, finish_reason: str = "SUCCESS"
) -> bytes:
    artifact = {"seed": seed, "base64": base64.b64encode(image).decode(), "finishReason": finish_reason}
    return json.dumps({"result": "success", "artifacts": [artifact]}).encode()


def error_status(code: str) -> int:
    status: int = SERVICE.shape_for(code).metadata["error"]["httpStatusCode"]
    return status


class Wire:
    """Answers a botocore client's requests from a queue, at the HTTP level, and records
    every request botocore would have sent."""

    def __init__(self, client: BaseClient) -> None:
        self.requests: list[AWSPreparedRequest] = []
        self._answers: deque[tuple[int, bytes, dict[str, str]]] = deque()
        self._count = 0
        client.meta.events.register("before-send.bedrock-runtime", self._answer)

    def ok(self, body: bytes, content_type: str = "application/json") -> None:
        self._answers.append((200, body, {"Content-Type": content_type}))

    def error(self, code: str, message: str, status: int | None = None, **fields: Any) -> None:
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": f"{code}:{NAMESPACE}"}
        body = json.dumps({"message": message, **fields}).encode()
        self._answers.append((status or error_status(code), body, headers))

    def stream(self, events: list[bytes]) -> None:
        self.ok(b"".join(events), "application/vnd.amazon.eventstream")

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        if not self._answers:
            raise AssertionError(f"unexpected request to {request.url}")
        self._count += 1
        status, body, headers = self._answers.popleft()
        return http_response(status, body, {**headers, "x-amzn-RequestId": f"req-{self._count}"})


ENCODER = EventStreamEncoder()


def chunk_event(part: bytes) -> bytes:
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    payload = json.dumps({"bytes": base64.b64encode(part).decode()}).encode()
    return ENCODER.encode_message(headers, payload)


def exception_event(member: str, **fields: Any) -> bytes:
    headers = {
        ":exception-type": member,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return ENCODER.encode_message(headers, json.dumps(fields).encode())


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    # One session per module: it caches the loaded service model, which makes each client
    # quick to build.
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=slept.append))
    return slept


@pytest.fixture
def client(session: boto3.Session, sleeps: list[float]) -> Iterator[SDXLClient]:
    with SDXLClient(UNREACHABLE, session=session, max_attempts=1) as sdxl:
        yield sdxl


@pytest.fixture
def wire(client: SDXLClient) -> Wire:
    return Wire(client.boto_client)


# --- success --------------------------------------------------------------------------------


def test_generate_decodes_the_png_and_reports_seed_finish_reason_and_request_id(
    client: SDXLClient, wire: Wire
) -> None:
    wire.ok(model_body(seed=99))
    result = client.generate(REQUEST)
    assert result.png == PNG
    assert result.image.size == (1024, 1024)
    assert (result.seed, result.finish_reason) == (99, "SUCCESS")
    assert (result.model_id, result.request_id) == (SDXL_MODEL_ID, "req-1")
    assert result.request is REQUEST and result.body == REQUEST.to_body()
    [sent] = wire.requests
    assert sent.method == "POST"
    assert sent.url == f"{UNREACHABLE}/model/{SDXL_MODEL_ID}/invoke"
    assert json.loads(sent.body) == REQUEST.to_body()
    assert sent.headers["Content-Type"] == b"application/json"
    assert sent.headers["Accept"] == b"application/json"
    assert sent.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256")


def test_model_id_is_configurable(session: boto3.Session) -> None:
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{SDXL_MODEL_ID}"
    with SDXLClient(UNREACHABLE, session=session, model_id=arn) as sdxl:
        wire = Wire(sdxl.boto_client)
        wire.ok(model_body())
        assert sdxl.generate(REQUEST).model_id == arn
    assert wire.requests[0].url.endswith("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3A"
                                         "foundation-model%2Fstability.stable-diffusion-xl-v1/invoke")


def test_invoke_body_sends_a_ready_made_body(client: SDXLClient, wire: Wire) -> None:
    body = {"text_prompts": [{"text": "a pier"}], "width": 1344, "height": 768}
    wire.ok(model_body())
    result = client.invoke_body(json.dumps(body))
    assert json.loads(wire.requests[0].body) == body
    assert result.body == body and result.request is not None


def test_invoke_body_unvalidated_sends_the_bytes_as_given(
    client: SDXLClient, wire: Wire
) -> None:
    raw = b'{"text_prompts": [], "steps": 5}'
    wire.error("ValidationException", "Malformed input request: #/steps: ...")
    with pytest.raises(errors.ValidationException):
        client.invoke_body(raw, validate=False)
    assert wire.requests[0].body == raw


# --- refused locally: no network ------------------------------------------------------------


def test_an_invalid_request_never_reaches_the_network(client: SDXLClient, wire: Wire) -> None:
    invalid = SDXLRequest(prompt="x", steps=1)
    # A Stubber with nothing queued fails any call that gets as far as botocore.
    with Stubber(client.boto_client) as stubber:
        with pytest.raises(InvalidRequest) as caught:
            client.generate(invalid)
        with pytest.raises(InvalidRequest):
            client.generate_streaming(invalid)
        with pytest.raises(InvalidRequest):
            client.invoke_body({"text_prompts": [{"text": "x"}], "sampler": "K_NOPE"})
        stubber.assert_no_pending_responses()
    assert caught.value.message.startswith("Malformed input request: #/steps: 1 is not greater")
    assert wire.requests == []


# --- service errors -------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(errors.ERROR_CLASSES))
def test_every_modeled_error_code_raises_its_typed_exception(
    client: SDXLClient, wire: Wire, code: str
) -> None:
    wire.error(code, f"the service says {code}")
    with pytest.raises(BedrockError) as caught:
        client.generate(REQUEST)
    err = caught.value
    assert type(err) is errors.error_class(code)
    assert type(err).__name__ == code and getattr(errors, code) is type(err)
    assert err.code == code
    assert err.message == f"the service says {code}"
    assert err.http_status == error_status(code)
    assert err.request_id == "req-1"
    assert err.__cause__ is not None


def test_error_classes_are_exactly_the_models_error_shapes() -> None:
    assert set(errors.ERROR_CLASSES) == {shape.name for shape in SERVICE.error_shapes}


def test_modeled_error_fields_are_kept(client: SDXLClient, wire: Wire) -> None:
    wire.error("ModelErrorException", "boom", originalStatusCode=500, resourceName="sdxl")
    with pytest.raises(errors.ModelErrorException) as caught:
        client.generate(REQUEST)
    assert caught.value.details == {"originalStatusCode": 500, "resourceName": "sdxl"}


def test_an_error_code_outside_the_model_is_a_plain_bedrock_error(
    client: SDXLClient, wire: Wire
) -> None:
    wire.error("UnrecognizedClientException", "The security token is invalid.", status=403)
    with pytest.raises(BedrockError) as caught:
        client.generate(REQUEST)
    assert type(caught.value) is BedrockError
    assert (caught.value.code, caught.value.http_status) == ("UnrecognizedClientException", 403)


# --- finish reasons -------------------------------------------------------------------------


def test_content_filtered_raises_with_the_image_still_available(
    client: SDXLClient, wire: Wire
) -> None:
    wire.ok(model_body(seed=7, finish_reason="CONTENT_FILTERED"))
    with pytest.raises(ContentFiltered) as caught:
        client.generate(REQUEST)
    result = caught.value.result
    assert (result.png, result.seed, result.finish_reason) == (PNG, 7, "CONTENT_FILTERED")
    assert result.request_id == "req-1"


@pytest.mark.parametrize("image", [PNG, b""], ids=["with image", "without image"])
def test_finish_reason_error_raises_generation_failed(
    client: SDXLClient, wire: Wire, image: bytes
) -> None:
    wire.ok(model_body(image=image, finish_reason="ERROR"))
    with pytest.raises(GenerationFailed) as caught:
        client.generate(REQUEST)
    assert caught.value.result.png == image
    assert caught.value.result.finish_reason == "ERROR"


# --- responses that break the contract ------------------------------------------------------

DRIFTED = {
    "not JSON": (b"<html>502 Bad Gateway</html>", "#: is not a JSON object"),
    "missing artifacts": (b'{"result": "success"}', "#: required key [artifacts] not found"),
    "empty artifacts": (
        b'{"result": "success", "artifacts": []}',
        "#/artifacts: expected minimum item count: 1, found: 0",
    ),
    "unknown finishReason": (
        model_body(finish_reason="DONE"),
        "#/artifacts/0/finishReason: DONE is not a valid enum value",
    ),
    "seed as a string": (
        model_body().replace(b'"seed": 1234', b'"seed": "1234"'),
        "#/artifacts/0/seed: expected type: Integer, found: String",
    ),
    "artifacts not a list": (b'{"result": "success", "artifacts": {}}', "#/artifacts: expected"),
    "base64 that is not base64": (
        json.dumps(
            {"result": "success", "artifacts": [{"seed": 1, "base64": "%%%", "finishReason": "SUCCESS"}]}
        ).encode(),
        "#/artifacts/0/base64: is not valid base64",
    ),
    "a JPEG instead of a PNG": (
        model_body(image=image_bytes((1024, 1024), fmt="JPEG")),
        "#/artifacts/0/base64: is a JPEG image; expected PNG",
    ),
    "bytes that are no image": (
        model_body(image=b"not an image"),
        "#/artifacts/0/base64: is not an image",
    ),
    "success without an image": (model_body(image=b""), "#/artifacts/0/base64: is not an image"),
}


@pytest.mark.parametrize("body, violation", DRIFTED.values(), ids=DRIFTED.keys())
def test_a_response_breaking_the_contract_is_contract_drift(
    client: SDXLClient, wire: Wire, body: bytes, violation: str
) -> None:
    wire.ok(body)
    with pytest.raises(ContractDrift) as caught:
        client.generate(REQUEST)
    assert violation in str(caught.value)
    assert caught.value.violations
    assert caught.value.request_id == "req-1"


# --- streaming ------------------------------------------------------------------------------


def test_streaming_concatenates_the_chunks(client: SDXLClient, wire: Wire) -> None:
    body = model_body(seed=31)
    parts = [body[:10], body[10:5000], body[5000:]]
    wire.stream([chunk_event(part) for part in parts])
    result = client.generate_streaming(REQUEST)
    assert (result.png, result.seed, result.request_id) == (PNG, 31, "req-1")
    [sent] = wire.requests
    assert sent.url == f"{UNREACHABLE}/model/{SDXL_MODEL_ID}/invoke-with-response-stream"
    assert json.loads(sent.body) == REQUEST.to_body()
    assert sent.headers["X-Amzn-Bedrock-Accept"] == b"application/json"


@pytest.mark.parametrize("member, code", sorted(errors._stream_error_codes().items()))
def test_an_error_event_mid_stream_raises_its_typed_exception_with_the_streams_request_id(
    client: SDXLClient, wire: Wire, member: str, code: str
) -> None:
    wire.stream([chunk_event(model_body()[:100]), exception_event(member, message="it died")])
    with pytest.raises(errors.error_class(code)) as caught:
        client.generate(REQUEST, stream=True)
    err = caught.value
    assert (err.code, err.message, err.request_id) == (code, "it died", "req-1")


def test_a_stream_refused_up_front_raises_the_typed_exception(
    client: SDXLClient, wire: Wire
) -> None:
    wire.error("AccessDeniedException", "no access to the model")
    with pytest.raises(errors.AccessDeniedException, match="no access to the model"):
        client.generate_streaming(REQUEST)


def test_a_stream_whose_chunks_break_the_contract_is_contract_drift(
    client: SDXLClient, wire: Wire
) -> None:
    wire.stream([chunk_event(b'{"result": "success"}')])
    with pytest.raises(ContractDrift, match=r"required key \[artifacts\] not found"):
        client.generate_streaming(REQUEST)


# --- retries through botocore's configuration -----------------------------------------------


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException",
                                  "InternalServerException", "ModelNotReadyException"])
def test_two_failures_then_success_with_three_attempts_succeeds(
    session: boto3.Session, sleeps: list[float], code: str
) -> None:
    with SDXLClient(UNREACHABLE, session=session, max_attempts=3, retry_mode="standard") as sdxl:
        wire = Wire(sdxl.boto_client)
        wire.error(code, "slow down")
        wire.error(code, "slow down")
        wire.ok(model_body(seed=3))
        result = sdxl.generate(REQUEST)
    assert result.seed == 3 and result.request_id == "req-3"
    assert len(wire.requests) == 3
    assert len(sleeps) == 2  # botocore backed off before each retry


def test_retries_stop_at_max_attempts(session: boto3.Session, sleeps: list[float]) -> None:
    with SDXLClient(UNREACHABLE, session=session, max_attempts=2) as sdxl:
        wire = Wire(sdxl.boto_client)
        for _ in range(3):
            wire.error("ThrottlingException", "Too many requests")
        with pytest.raises(errors.ThrottlingException) as caught:
            sdxl.generate(REQUEST)
    assert len(wire.requests) == 2
    assert caught.value.request_id == "req-2"


def test_a_validation_error_is_not_retried(session: boto3.Session, sleeps: list[float]) -> None:
    with SDXLClient(UNREACHABLE, session=session, max_attempts=5) as sdxl:
        wire = Wire(sdxl.boto_client)
        wire.error("ValidationException", "The provided model identifier is invalid.")
        with pytest.raises(errors.ValidationException):
            sdxl.generate(REQUEST)
    assert len(wire.requests) == 1 and sleeps == []


def test_retry_settings_reach_botocores_config(session: boto3.Session) -> None:
    with SDXLClient(UNREACHABLE, session=session, max_attempts=7, retry_mode="adaptive") as sdxl:
        retries = sdxl.boto_client.meta.config.retries
    assert retries == {"total_max_attempts": 7, "mode": "adaptive"}


# --- connection and credentials -------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_endpoint_is_connection_failed(
    session: boto3.Session, sleeps: list[float]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with (
        SDXLClient(url, session=session, max_attempts=1) as sdxl,
        pytest.raises(ConnectionFailed) as caught,
    ):
        sdxl.generate(REQUEST)
    assert url in str(caught.value)
    assert isinstance(caught.value.__cause__, EndpointConnectionError)


def test_missing_credentials_are_reported_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with SDXLClient("aws", region="us-east-1") as sdxl:
        wire = Wire(sdxl.boto_client)
        with pytest.raises(CredentialsMissing, match="no AWS credentials found"):
            sdxl.generate(REQUEST)
    assert wire.requests == []
    # A URL endpoint is usually a local mock: without credentials it signs with placeholders.
    with SDXLClient(UNREACHABLE, region="us-east-1") as sdxl:
        credentials = sdxl.boto_client._request_signer._credentials
        assert credentials.access_key == PLACEHOLDER_CREDENTIALS["aws_access_key_id"]


# --- construction ---------------------------------------------------------------------------


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


def test_aws_endpoint_without_a_region_is_a_clear_error(no_region: None) -> None:
    with pytest.raises(ClientConfigError, match="no AWS region configured"):
        SDXLClient("aws")


def test_a_url_endpoint_without_a_region_signs_for_a_default_one(
    no_region: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with SDXLClient(UNREACHABLE, max_attempts=1) as sdxl:
        wire = Wire(sdxl.boto_client)
        wire.ok(model_body())
        sdxl.generate(REQUEST)
    assert b"/us-east-1/bedrock/aws4_request" in wire.requests[0].headers["Authorization"]


def test_an_unknown_profile_is_a_clear_error(no_region: None) -> None:
    with pytest.raises(ClientConfigError, match="could not be found"):
        SDXLClient("aws", profile="no-such-profile")


def test_aws_endpoint_uses_the_regional_service_url(session: boto3.Session) -> None:
    with SDXLClient("aws", session=session, region="eu-central-1") as sdxl:
        assert sdxl.endpoint_url == "https://bedrock-runtime.eu-central-1.amazonaws.com"


def test_an_unknown_endpoint_is_refused() -> None:
    with pytest.raises(ClientConfigError, match="endpoint must be"):
        SDXLClient("ftp://example")


def test_a_ready_boto3_client_is_used_and_left_open(session: boto3.Session) -> None:
    boto_client = session.client("bedrock-runtime", endpoint_url=UNREACHABLE)
    wire = Wire(boto_client)
    wire.ok(model_body())
    wire.ok(model_body())
    with SDXLClient(client=boto_client) as sdxl:
        assert sdxl.boto_client is boto_client
        sdxl.generate(REQUEST)
    # Still usable: the caller owns it.
    boto_client.invoke_model(modelId=SDXL_MODEL_ID, body=b"{}")
    assert len(wire.requests) == 2


def test_a_ready_client_with_other_settings_is_refused(session: boto3.Session) -> None:
    boto_client = session.client("bedrock-runtime", endpoint_url=UNREACHABLE)
    with pytest.raises(ClientConfigError, match="only client= and model_id="):
        SDXLClient(client=boto_client, max_attempts=2)


def test_mock_endpoint_keeps_the_mock_active_for_the_clients_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mock_bedrock.doors.inprocess

    events: list[str] = []

    class FakeMock:
        def __enter__(self) -> FakeMock:
            events.append("enter")
            return self

        def __exit__(self, *exc: object) -> None:
            events.append("exit")

    monkeypatch.setattr(mock_bedrock.doors.inprocess, "mock_sdxl", FakeMock)
    sdxl = SDXLClient("mock")
    assert events == ["enter"]
    assert isinstance(sdxl.mock, FakeMock)
    credentials = sdxl.boto_client._request_signer._credentials
    # never the user's own credentials
    assert credentials.access_key == PLACEHOLDER_CREDENTIALS["aws_access_key_id"]
    sdxl.close()
    assert events == ["enter", "exit"]
