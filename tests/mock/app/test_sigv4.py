"""Strict mode: SigV4 checked with botocore's signer; each failure answered as AWS does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from mock_bedrock.service.app import MockBedrock
from tests.support.wsgi_app import SDXL, SDXL_ARN, boto3_client, model_path, parse, sdxl_body

KEY, SECRET = "AKIDSTRICT", "s3cr3t"
FRAMEWORK_NS = "http://internal.amazon.com/coral/com.amazon.coral.service/"


@pytest.fixture
def app() -> MockBedrock:
    return MockBedrock(credentials={KEY: SECRET, "AKIDOTHER": "other"})


def signed(
    body: bytes, *, path: str | None = None, key: str = KEY, secret: str = SECRET,
    service: str = "bedrock", token: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Path and headers of a request signed by botocore's SigV4Auth."""
    path = path or model_path()
    request = AWSRequest(
        method="POST", url=f"http://localhost{path}", data=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(request)
    return path, dict(request.headers.items())


def body() -> bytes:
    return json.dumps(sdxl_body()).encode()


def error_of(response: Any) -> tuple[int, str, str]:
    error = parse(response)["Error"]
    return response.status_code, error["Code"], error["Message"]


def test_a_correctly_signed_request_is_served(app: MockBedrock) -> None:
    path, headers = signed(body())
    assert Client(app).post(path, data=body(), headers=headers).status_code == 200


@pytest.mark.parametrize("model_id", [SDXL_ARN, "stability.stable-diffusion-xl-v0"])
def test_signed_percent_encoded_paths_verify_with_and_without_a_raw_uri(
    app: MockBedrock, model_id: str
) -> None:
    path, headers = signed(body(), path=model_path(model_id))
    environ = EnvironBuilder(path=path, method="POST", data=body(), headers=headers).get_environ()
    assert ("%2F" in environ["REQUEST_URI"]) == (model_id == SDXL_ARN)
    expected = 200 if model_id == SDXL_ARN else 404
    _, status, _ = run_wsgi_app(app, environ)
    assert status.startswith(str(expected))
    for raw in ("REQUEST_URI", "RAW_URI"):  # servers that do not pass the raw path
        environ.pop(raw)
    environ["wsgi.input"].seek(0)
    _, status, _ = run_wsgi_app(app, environ)
    assert status.startswith(str(expected))


def test_session_tokens_are_part_of_the_signature(app: MockBedrock) -> None:
    path, headers = signed(body(), token="session-token")
    assert "X-Amz-Security-Token" in headers
    assert Client(app).post(path, data=body(), headers=headers).status_code == 200


def test_boto3_clients_pass_and_fail_as_their_keys_say(app: MockBedrock) -> None:
    good = boto3_client(app, access_key=KEY, secret=SECRET)
    assert good.invoke_model(modelId=SDXL, body=body())["ResponseMetadata"]["HTTPStatusCode"] == 200
    stream = good.invoke_model_with_response_stream(modelId=SDXL_ARN, body=body())
    assert all("chunk" in event for event in stream["body"])
    bad = boto3_client(app, access_key=KEY, secret="guess")
    with pytest.raises(bad.exceptions.ClientError) as caught:
        bad.invoke_model(modelId=SDXL, body=body())
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


@pytest.mark.parametrize(("authority", "status"), [("localhost", 200), ("elsewhere", 403)])
def test_a_signed_authority_is_checked_against_the_host_received(
    app: MockBedrock, authority: str, status: int
) -> None:
    # HTTP/2 clients may sign :authority (the JavaScript SDK does); whichever door, the value
    # it is checked against is the Host the request arrived with.
    request = AWSRequest(method="POST", url=f"http://localhost{model_path()}", data=body(),
                         headers={"Content-Type": "application/json", ":authority": authority})
    SigV4Auth(Credentials(KEY, SECRET), "bedrock", "us-east-1").add_auth(request)
    assert ":authority;" in request.headers["Authorization"]
    headers = {name: value for name, value in request.headers.items() if name != ":authority"}
    response = Client(app).post(model_path(), data=body(), headers=headers)
    assert response.status_code == status


def test_unsigned_requests_miss_the_authentication_token(app: MockBedrock) -> None:
    response = Client(app).post(model_path(), data=body(),
                                headers={"Content-Type": "application/json"})
    assert error_of(response) == (
        403, "MissingAuthenticationTokenException", "Missing Authentication Token",
    )
    assert response.headers["x-amzn-ErrorType"] == (
        f"MissingAuthenticationTokenException:{FRAMEWORK_NS}"
    )


def test_auth_is_checked_before_the_model_and_the_body(app: MockBedrock) -> None:
    response = Client(app).post(model_path("no.such-model"), data=b"junk")
    assert error_of(response)[:2] == (403, "MissingAuthenticationTokenException")


def test_unknown_keys_are_unrecognized_clients(app: MockBedrock) -> None:
    path, headers = signed(body(), key="AKIDNOBODY")
    assert error_of(Client(app).post(path, data=body(), headers=headers)) == (
        403, "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


@pytest.mark.parametrize(
    "tamper",
    ["secret", "body", "header", "other-key-secret"],
)
def test_wrong_signatures_are_refused(app: MockBedrock, tamper: str) -> None:
    sent = body()
    if tamper == "secret":
        path, headers = signed(sent, secret="nope")
    elif tamper == "other-key-secret":
        path, headers = signed(sent, key="AKIDOTHER", secret=SECRET)
    else:
        path, headers = signed(sent)
    if tamper == "body":
        sent = json.dumps(sdxl_body(seed=9)).encode()
    if tamper == "header":
        headers["Accept"] = "*/*"
    status, code, message = error_of(Client(app).post(path, data=sent, headers=headers))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )


def test_signatures_for_another_service_are_refused(app: MockBedrock) -> None:
    path, headers = signed(body(), service="s3")
    status, code, message = error_of(Client(app).post(path, data=body(), headers=headers))
    assert (status, code) == (403, "InvalidSignatureException")
    assert "'bedrock'" in message


def test_stale_signatures_have_expired(
    app: MockBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: an_hour_ago)
    path, headers = signed(body())
    status, code, message = error_of(Client(app).post(path, data=body(), headers=headers))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature expired")


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 Credential=AKIDSTRICT/20240101/us-east-1/bedrock"
     "/aws4_request, Signature=abc", "AWS4-HMAC-SHA256 Credential=AKIDSTRICT, "
     "SignedHeaders=host, Signature=abc"],
)
def test_malformed_authorization_is_an_incomplete_signature(
    app: MockBedrock, authorization: str
) -> None:
    response = Client(app).post(model_path(), data=body(),
                                headers={"Authorization": authorization})
    assert error_of(response)[:2] == (400, "IncompleteSignatureException")


def test_without_credentials_any_signature_or_none_is_accepted() -> None:
    client = Client(MockBedrock())
    path, headers = signed(body(), secret="whatever")
    assert client.post(path, data=body(), headers=headers).status_code == 200
    assert client.post(path, data=body()).status_code == 200
