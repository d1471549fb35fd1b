"""Strict mode on the wire: boto3-signed calls through both doors, and HTTP/2 requests signed
as the AWS SDK for JavaScript v3 signs them. What is checked is what the server received:
the body as it arrived (never the X-Amz-Content-SHA256 header in its place), the authority
as the door got it (a client may sign ``host`` or ``:authority``)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from hashlib import sha256
from typing import Any

import boto3
import h2.config
import h2.connection
import h2.events
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from mock_bedrock.doors.inprocess import mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock
from tests.support.doors import ONE_ATTEMPT

KEY, SECRET = "AKIDWIRE", "wire-secret"
MODEL_ID = "stability.stable-diffusion-xl-v1"
INVOKE_PATH = f"/model/{MODEL_ID}/invoke"
BODY = json.dumps({"text_prompts": [{"text": "a stone bridge"}], "seed": 5}).encode()
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
SESSION = boto3.session.Session()


def one_byte_changed(body: bytes) -> bytes:
    assert b"stone" in body
    return body.replace(b"stone", b"stane")


@pytest.fixture(scope="module")
def strict_app() -> MockBedrock:
    return MockBedrock(credentials={KEY: SECRET})


@pytest.fixture(scope="module")
def strict_server(strict_app: MockBedrock) -> Iterator[MockServer]:
    with MockServer(strict_app) as server:
        yield server


@pytest.fixture(params=["inprocess", "server"])
def signed_client(request: pytest.FixtureRequest, strict_app: MockBedrock) -> Iterator[Any]:
    """A boto3 client with the strict mock's key, through each door."""
    extra: dict[str, str] = {}
    if request.param == "server":
        extra["endpoint_url"] = request.getfixturevalue("strict_server").endpoint_url
    client = SESSION.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET, config=ONE_ATTEMPT, **extra)
    with mock_sdxl(strict_app):  # answers the in-process door; the server ignores it
        yield client
    client.close()


def with_content_hash(client: Any, value: Callable[[bytes], str]) -> None:
    """The client sends (and signs) an X-Amz-Content-SHA256 header, as the AWS SDK for
    JavaScript does on every call; botocore then signs the header's value as the payload
    hash, the body's own hash unseen."""
    def add(request: AWSRequest, **_: Any) -> None:
        request.headers["X-Amz-Content-SHA256"] = value(request.body)
    client.meta.events.register("before-sign.bedrock-runtime", add)


def changed_after_signing(client: Any) -> None:
    """One byte of the body changes between the signature and the wire. Registered for the
    operation, so it runs before the in-process door's handler (registered for the service)."""
    def change(request: Any, **_: Any) -> None:
        request.body = one_byte_changed(request.body)
    client.meta.events.register("before-send.bedrock-runtime.InvokeModel", change)


def refusal(client: Any) -> tuple[int, str, str]:
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.invoke_model(modelId=MODEL_ID, body=BODY)
    error = caught.value.response
    return (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"],
            error["Error"]["Message"])


def body_hash(body: bytes) -> str:
    return sha256(body).hexdigest()


def test_a_body_changed_after_signing_is_refused(signed_client: Any) -> None:
    changed_after_signing(signed_client)
    assert refusal(signed_client) == (403, "InvalidSignatureException", BAD_SIGNATURE)


@pytest.mark.parametrize(
    ("content_hash", "then_changed"),
    [
        (body_hash, True),  # the header signed is the body's hash as it was signed
        (lambda body: body_hash(one_byte_changed(body)), False),  # the header is wrong
        (lambda body: "UNSIGNED-PAYLOAD", False),  # no Bedrock Runtime operation takes it
    ],
    ids=["body-changed-header-kept", "header-disagrees", "unsigned-payload"],
)
def test_the_payload_hash_is_the_received_bodys_not_the_headers(
    signed_client: Any, content_hash: Callable[[bytes], str], then_changed: bool
) -> None:
    with_content_hash(signed_client, content_hash)
    if then_changed:
        changed_after_signing(signed_client)
    assert refusal(signed_client) == (403, "InvalidSignatureException", BAD_SIGNATURE)


def test_a_content_hash_header_that_matches_the_body_is_accepted(signed_client: Any) -> None:
    with_content_hash(signed_client, body_hash)
    answer = signed_client.invoke_model(modelId=MODEL_ID, body=BODY)
    assert json.loads(answer["body"].read())["artifacts"][0]["seed"] == 5


# --- HTTP/2, signed as the AWS SDK for JavaScript v3 signs ---------------------------------


class JavaScriptSdkSigner(SigV4Auth):
    """botocore's SigV4 with the JavaScript SDK's choice of headers over HTTP/2: its host
    header middleware puts the authority in ``:authority`` instead of ``host``
    (@aws-sdk/core), and the signer signs every header it is given but a few (user-agent...),
    ``:authority`` with them: SignedHeaders=:authority;accept;...;x-amz-user-agent."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = super().headers_to_sign(request)
        if ":authority" in request.headers:
            del headers["host"]
        return headers


def signed_fields(authority: str, body: bytes, *, signs: str, secret: str = SECRET,
                  sends_host: bool = False) -> list[tuple[str, str]]:
    """The header fields of an HTTP/2 request to ``authority`` signed with the authority in
    ``signs`` (``:authority`` or ``host``); ``sends_host``: a host field too, beside
    ``:authority`` (RFC 9113 8.3.1 allows both, equal)."""
    headers = {"content-type": "application/json", "accept": "application/json",
               "content-length": str(len(body)), "x-amz-content-sha256": body_hash(body),
               signs: authority}
    request = AWSRequest(method="POST", url=f"http://{authority}{INVOKE_PATH}", data=body,
                         headers=headers)
    JavaScriptSdkSigner(Credentials(KEY, secret), "bedrock", "us-east-1").add_auth(request)
    signed = request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert {":authority", "host"} & set(signed.split(";")) == {signs}  # as the test means
    fields = [(":method", "POST"), (":scheme", "http"), (":authority", authority),
              (":path", INVOKE_PATH)]  # the pseudo-headers first, as HTTP/2 requires
    fields += [(name.lower(), value) for name, value in request.headers.items()
               if name.lower() not in (":authority", "host")]
    return fields + ([("host", authority)] if sends_host else [])


def h2_call(server: MockServer, fields: list[tuple[str, str]], body: bytes
            ) -> tuple[int, dict[str, Any]]:
    """One request over HTTP/2 (cleartext, prior knowledge, as the JavaScript SDK talks to
    an http:// endpoint): its status and JSON answer."""
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding="utf-8"))
    conn.initiate_connection()
    status, answer = 0, b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        conn.send_headers(1, fields)
        conn.send_data(1, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        ended = False
        while not ended:
            data = sock.recv(65536)
            assert data, "the server closed the connection before answering"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    answer += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                ended = ended or isinstance(event, h2.events.StreamEnded)
            sock.sendall(conn.data_to_send())
    return status, json.loads(answer)


def authority_of(server: MockServer) -> str:
    return server.endpoint_url.removeprefix("http://")


@pytest.mark.parametrize(
    ("signs", "sends_host"),
    [(":authority", False), ("host", False), ("host", True)],
    # The JavaScript SDK; a client that turns a signed Host into :authority (httpx does);
    # one that sends the host field as well.
    ids=["javascript-sdk", "host-as-authority", "host-and-authority"],
)
def test_http2_calls_signed_with_the_authority_in_either_field_are_served(
    strict_server: MockServer, signs: str, sends_host: bool
) -> None:
    fields = signed_fields(authority_of(strict_server), BODY, signs=signs,
                           sends_host=sends_host)
    status, answer = h2_call(strict_server, fields, BODY)
    assert status == 200, answer
    assert answer["artifacts"][0]["seed"] == 5


@pytest.mark.parametrize("wrong", ["secret", "body", "authority"])
def test_http2_calls_signed_with_authority_but_not_as_received_are_refused(
    strict_server: MockServer, wrong: str
) -> None:
    authority, sent = authority_of(strict_server), BODY
    signed_for = authority.replace("127.0.0.1", "localhost") if wrong == "authority" else authority
    fields = signed_fields(signed_for, BODY, signs=":authority",
                           secret="guess" if wrong == "secret" else SECRET)
    fields = [(":authority", authority) if name == ":authority" else (name, value)
              for name, value in fields]  # sent to the server's own address
    if wrong == "body":
        sent = one_byte_changed(BODY)  # the x-amz-content-sha256 header still the old hash
    status, answer = h2_call(strict_server, fields, sent)
    assert (status, answer) == (403, {"message": BAD_SIGNATURE})
