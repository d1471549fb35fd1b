"""Record then replay against a stand-in for real Bedrock: the mock server with strict SigV4,
so a forwarded call only succeeds when the recorder re-signs it with its own credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from mock_bedrock.doors.inprocess import mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.faults import FaultRule
from mock_bedrock.testing.cassettes import CassetteDir, cassette_key
from mock_bedrock.testing.recorder import (
    REPLAY_MISS_CODE,
    RecordingApp,
    bedrock_url,
    recording_app,
    replaying_app,
)

MODEL = "stability.stable-diffusion-xl-v1"
ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"
# The recorder's own identity (what the upstream accepts) and the caller's (which it does not).
RECORDER_KEY, RECORDER_SECRET, RECORDER_TOKEN = "AKIDRECORDER0001", "recorder/secret+K3y", "tokRec"
CALLER_KEY, CALLER_SECRET, CALLER_TOKEN = "AKIDCALLER000002", "caller/secret+K3y", "tokCaller"
SECRETS = [RECORDER_KEY, RECORDER_SECRET, RECORDER_TOKEN, CALLER_KEY, CALLER_SECRET, CALLER_TOKEN]
BODY = {"text_prompts": [{"text": "a lighthouse at dusk"}], "seed": 7, "steps": 10}


def client_for(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=CALLER_KEY, aws_secret_access_key=CALLER_SECRET,
        aws_session_token=CALLER_TOKEN, config=Config(retries={"total_max_attempts": 1}),
    )


def invoke(client: Any, body: Any, model_id: str = MODEL) -> tuple[bytes, dict[str, str]]:
    payload = body if isinstance(body, str) else json.dumps(body)
    response = client.invoke_model(modelId=model_id, body=payload, contentType="application/json",
                                   accept="application/json")
    return response["body"].read(), response["ResponseMetadata"]["HTTPHeaders"]


def refusal(client: Any, body: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        invoke(client, body)
    return caught.value.response


def without_date(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("date", "server")}


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockServer]:
    app = MockBedrock(credentials={RECORDER_KEY: RECORDER_SECRET})
    with MockServer(app=app) as server:
        yield server


@pytest.fixture
def cassettes(tmp_path: Path) -> Path:
    return tmp_path / "cassettes"


@pytest.fixture
def recorder(upstream: MockServer, cassettes: Path) -> Iterator[MockServer]:
    upstream.journal.clear()
    upstream.faults.clear()
    credentials = Credentials(RECORDER_KEY, RECORDER_SECRET, RECORDER_TOKEN)
    app = recording_app(upstream.endpoint_url, cassettes, credentials)
    with MockServer(app=app) as server:
        yield server
    app.close()


@pytest.fixture
def replayer(cassettes: Path) -> Iterator[MockServer]:
    with MockServer(app=replaying_app(cassettes)) as server:
        yield server


def test_the_upstream_refuses_the_callers_own_signature(upstream: MockServer) -> None:
    # Without re-signing, nothing could be recorded: the stand-in checks signatures.
    response = refusal(client_for(upstream.endpoint_url), BODY)
    assert response["Error"]["Code"] == "UnrecognizedClientException"


def test_replay_is_byte_identical_to_the_recorded_answer(
    recorder: MockServer, replayer: MockServer, cassettes: Path
) -> None:
    recorded_body, recorded_headers = invoke(client_for(recorder.endpoint_url), BODY)
    replayed_body, replayed_headers = invoke(client_for(replayer.endpoint_url), BODY)
    assert replayed_body == recorded_body
    assert without_date(replayed_headers) == without_date(recorded_headers)
    assert json.loads(recorded_body)["artifacts"][0]["seed"] == BODY["seed"]
    assert len(CassetteDir(cassettes).keys()) == 1


def test_recorded_answer_is_the_upstreams_answer(recorder: MockServer, upstream: MockServer
                                                 ) -> None:
    recorded, headers = invoke(client_for(recorder.endpoint_url), BODY)
    [entry] = upstream.journal.entries()
    assert headers["x-amzn-requestid"] == entry.request_id
    assert json.loads(recorded)["artifacts"][0]["seed"] == entry.seed


def test_refusals_are_recorded_and_replayed_with_their_wording(
    recorder: MockServer, replayer: MockServer
) -> None:
    bad = {**BODY, "steps": 151}
    recorded = refusal(client_for(recorder.endpoint_url), bad)
    replayed = refusal(client_for(replayer.endpoint_url), bad)
    assert replayed["Error"] == recorded["Error"]
    assert replayed["Error"]["Message"] == (
        "Malformed input request: #/steps: 151 is not less or equal to 150, "
        "please reformat your input and try again."
    )
    assert replayed["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_stream_answers_replay_byte_for_byte(
    recorder: MockServer, replayer: MockServer, cassettes: Path
) -> None:
    def chunks(url: str) -> list[bytes]:
        response = client_for(url).invoke_model_with_response_stream(
            modelId=MODEL, body=json.dumps(BODY)
        )
        return [event["chunk"]["bytes"] for event in response["body"]]

    recorded = chunks(recorder.endpoint_url)
    assert chunks(replayer.endpoint_url) == recorded
    # The raw event stream, compared on the wire (no client decoding in between).
    with httpx.Client() as http:
        path = f"/model/{MODEL}/invoke-with-response-stream"
        replayed_raw = http.post(replayer.endpoint_url + path, content=json.dumps(BODY)).content
    [key] = CassetteDir(cassettes).keys()
    stored = json.loads((cassettes / f"{key}.json").read_text())
    assert stored["request"]["operation"] == "InvokeModelWithResponseStream"
    assert "base64" in stored["response"]["body"]  # binary frames, kept exactly
    cassette = CassetteDir(cassettes).load(key)
    assert cassette is not None and replayed_raw == cassette.response_body


def test_no_credential_or_signature_lands_in_a_cassette(
    recorder: MockServer, cassettes: Path
) -> None:
    url = recorder.endpoint_url
    invoke(client_for(url), BODY)
    refusal(client_for(url), {**BODY, "steps": 1})
    client_for(url).invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(BODY))
    files = list(cassettes.iterdir())
    assert len(files) == 3
    for path in files:
        text = path.read_text()
        for secret in SECRETS:
            assert secret not in text, f"{secret} found in {path.name}"
        for header in ("authorization", "x-amz-security-token", "x-amz-date", "signature"):
            assert header not in text.lower(), f"{header} found in {path.name}"


def test_cassette_is_readable_json(recorder: MockServer, cassettes: Path) -> None:
    invoke(client_for(recorder.endpoint_url), BODY)
    [path] = cassettes.iterdir()
    stored = json.loads(path.read_text())
    assert path.name == f"{stored['key']}.json"
    assert stored["request"]["model_id"] == MODEL
    assert stored["request"]["body"]["json"] == BODY
    assert stored["response"]["status"] == 200
    assert stored["response"]["body"]["json"]["artifacts"][0]["finishReason"] == "SUCCESS"
    assert "  " in path.read_text()  # indented, so a diff is line by line


def test_the_key_is_canonical_json(recorder: MockServer, replayer: MockServer) -> None:
    recorded, _ = invoke(client_for(recorder.endpoint_url), BODY)
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=3)
    replayed, _ = invoke(client_for(replayer.endpoint_url), reordered)
    assert replayed == recorded
    assert cassette_key("InvokeModel", MODEL, reordered.encode()) == cassette_key(
        "InvokeModel", MODEL, json.dumps(BODY).encode()
    )
    assert cassette_key("InvokeModel", MODEL, b"{}") != cassette_key(
        "InvokeModelWithResponseStream", MODEL, b"{}"
    )


def test_a_model_arn_is_forwarded_signed_and_keyed_by_its_decoded_id(
    recorder: MockServer, replayer: MockServer, cassettes: Path
) -> None:
    recorded, _ = invoke(client_for(recorder.endpoint_url), BODY, model_id=ARN)
    replayed, _ = invoke(client_for(replayer.endpoint_url), BODY, model_id=ARN)
    assert replayed == recorded
    [key] = CassetteDir(cassettes).keys()
    assert key == cassette_key("InvokeModel", ARN, json.dumps(BODY).encode())


def test_a_replay_miss_names_the_missing_request(
    recorder: MockServer, replayer: MockServer, cassettes: Path
) -> None:
    invoke(client_for(recorder.endpoint_url), BODY)
    other = {**BODY, "text_prompts": [{"text": "a windmill at dawn"}]}
    response = refusal(client_for(replayer.endpoint_url), other)
    key = cassette_key("InvokeModel", MODEL, json.dumps(other).encode())
    message = response["Error"]["Message"]
    assert response["Error"]["Code"] == REPLAY_MISS_CODE
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert f"{key}.json" in message and MODEL in message and "a windmill at dawn" in message
    assert "InvokeModel" in message and str(cassettes) in message


def test_a_miss_with_a_long_image_body_stays_short(replayer: MockServer) -> None:
    body = {**BODY, "extras": {"blob": "A" * 100_000}}
    message = refusal(client_for(replayer.endpoint_url), body)["Error"]["Message"]
    assert len(message) < 600
    assert "100000 chars" in message


def test_a_miss_falls_through_when_asked(recorder: MockServer, cassettes: Path) -> None:
    invoke(client_for(recorder.endpoint_url), BODY)
    placeholder = MockBedrock()
    app = replaying_app(cassettes, fallthrough=placeholder)
    with MockServer(app=app) as server:
        client = client_for(server.endpoint_url)
        invoke(client, BODY)  # recorded: the placeholder is not asked
        assert len(placeholder.journal) == 0
        other = {**BODY, "seed": 8}
        body, _ = invoke(client, other)
    [entry] = placeholder.journal.entries()
    assert entry.body == other  # the fallthrough got the whole body, though it was read
    assert json.loads(body)["artifacts"][0]["seed"] == 8


def test_replay_in_process_through_mock_sdxl(recorder: MockServer, cassettes: Path) -> None:
    recorded, _ = invoke(client_for(recorder.endpoint_url), BODY)
    with mock_sdxl(app=replaying_app(cassettes)):
        replayed, _ = invoke(boto3.client("bedrock-runtime", region_name="us-east-1"), BODY)
    assert replayed == recorded


def test_throttling_is_passed_on_but_not_recorded(
    recorder: MockServer, upstream: MockServer, cassettes: Path
) -> None:
    upstream.faults.add(FaultRule(error="ThrottlingException", times=1))
    response = refusal(client_for(recorder.endpoint_url), BODY)
    assert response["Error"]["Code"] == "ThrottlingException"
    assert not cassettes.exists() or not list(cassettes.iterdir())
    invoke(client_for(recorder.endpoint_url), BODY)  # the retry is recorded
    assert len(CassetteDir(cassettes).keys()) == 1


def test_an_unreachable_upstream_is_a_clear_error(cassettes: Path) -> None:
    with MockServer() as gone:
        url = gone.endpoint_url
    app = recording_app(url, cassettes, Credentials(RECORDER_KEY, RECORDER_SECRET))
    with MockServer(app=app) as server:
        response = refusal(client_for(server.endpoint_url), BODY)
    assert response["Error"]["Code"] == "RecordingUpstreamUnreachable"
    assert url in response["Error"]["Message"]


def test_recording_without_credentials_is_refused_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ValueError, match="needs AWS credentials"):
        RecordingApp("https://bedrock-runtime.us-east-1.amazonaws.com", tmp_path)


def test_the_signing_region_comes_from_a_bedrock_url(tmp_path: Path) -> None:
    url = bedrock_url("eu-west-3")  # botocore's endpoint resolution; nothing is called
    assert url == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    app = recording_app(url, tmp_path, Credentials(RECORDER_KEY, RECORDER_SECRET))
    assert app.region == "eu-west-3"


def test_a_body_too_deeply_nested_to_parse_is_keyed_by_its_bytes(replayer: MockServer) -> None:
    deep = '{"text_prompts": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = refusal(client_for(replayer.endpoint_url), deep)
    assert response["Error"]["Code"] == REPLAY_MISS_CODE  # a named miss, not a crash
    assert cassette_key("InvokeModel", MODEL, deep.encode()) in response["Error"]["Message"]
