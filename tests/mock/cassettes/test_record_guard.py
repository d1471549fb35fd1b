"""What the recorder forwards: only calls on the catalogue's models, and with
``caller_credentials`` only calls signed with one of them. Anything else is answered locally,
as the mock answers it, and never reaches the upstream (a strict-SigV4 mock standing in for
real Bedrock), through either door."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from mock_bedrock.doors.inprocess import mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.testing.cassettes import CassetteDir
from mock_bedrock.testing.recorder import recording_app
from tests.support.doors import ONE_ATTEMPT

RECORDER_KEY, RECORDER_SECRET = "AKIDRECORDERGUARD1", "recorder-guard/secret"
CALLER_KEY, CALLER_SECRET = "AKIDCALLERGUARD002", "caller-guard/secret"
SDXL = "stability.stable-diffusion-xl-v1"
SDXL_BODY = {"text_prompts": [{"text": "a lighthouse at dusk"}], "seed": 7, "steps": 10}
PROFILE = "us.stability.sd3-5-large-v1:0"
SD35_BODY = {"prompt": "a lighthouse at dusk", "seed": 7, "output_format": "jpeg"}
# Ids of models the mock does not serve, in each form a caller may use.
FOREIGN_IDS = [
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-3-haiku-20240307-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    "stability.stable-diffusion-xl-v9",
]


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockServer]:
    with MockServer(app=MockBedrock(credentials={RECORDER_KEY: RECORDER_SECRET})) as server:
        yield server


@pytest.fixture(params=["inprocess", "server"])
def door(request: pytest.FixtureRequest, upstream: MockServer) -> str:
    upstream.journal.clear()
    return str(request.param)


@contextmanager
def recorder(door: str, upstream: MockServer, cassettes: Path,
             caller: dict[str, str] | None = None) -> Iterator[str | None]:
    """The recorder in front of ``upstream`` through ``door``: its URL (None in process)."""
    app = recording_app(upstream.endpoint_url, cassettes,
                        Credentials(RECORDER_KEY, RECORDER_SECRET), caller_credentials=caller)
    try:
        if door == "inprocess":
            with mock_sdxl(app=app):
                yield None
        else:
            with MockServer(app=app) as server:
                yield server.endpoint_url
    finally:
        app.close()


def invoke(url: str | None, model_id: str, body: dict[str, Any],
           key: str = CALLER_KEY, secret: str = CALLER_SECRET) -> dict[str, Any]:
    """The call's answer as botocore parses it (a refusal's too)."""
    extra = {} if url is None else {"endpoint_url": url}
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id=key,
                          aws_secret_access_key=secret, config=ONE_ATTEMPT, **extra)
    try:
        answer: dict[str, Any] = client.invoke_model(modelId=model_id, body=json.dumps(body))
        answer["body"] = answer["body"].read()
        return answer
    except ClientError as err:
        return dict(err.response)
    finally:
        client.close()


@pytest.mark.parametrize("model_id", FOREIGN_IDS)
def test_a_model_outside_the_catalogue_is_refused_as_unknown_and_not_forwarded(
    door: str, upstream: MockServer, tmp_path: Path, model_id: str
) -> None:
    with mock_sdxl():  # the mock's own answer for the id, in process
        expected = invoke(None, model_id, SDXL_BODY)
    with recorder(door, upstream, tmp_path) as url:
        answer = invoke(url, model_id, SDXL_BODY)
    assert answer["Error"] == expected["Error"]
    assert answer["Error"] == {"Code": "ValidationException",
                               "Message": "The provided model identifier is invalid."}
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(upstream.journal) == 0  # nothing was signed with the recorder's credentials
    assert CassetteDir(tmp_path).keys() == []


def test_every_form_of_a_catalogue_id_is_forwarded(
    door: str, upstream: MockServer, tmp_path: Path
) -> None:
    profile_arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}"
    calls = [(SDXL, SDXL_BODY), (f"arn:aws:bedrock:us-west-2::foundation-model/{SDXL}",
                                 SDXL_BODY), (PROFILE, SD35_BODY), (profile_arn, SD35_BODY)]
    with recorder(door, upstream, tmp_path) as url:
        statuses = [invoke(url, model_id, body)["ResponseMetadata"]["HTTPStatusCode"]
                    for model_id, body in calls]
    assert statuses == [200] * len(calls)
    assert [entry.model_id for entry in upstream.journal.entries()] == [m for m, _ in calls]


def test_a_retired_id_the_catalogue_knows_is_forwarded_for_the_services_own_refusal(
    door: str, upstream: MockServer, tmp_path: Path
) -> None:
    with recorder(door, upstream, tmp_path) as url:
        answer = invoke(url, "stability.stable-diffusion-xl-v0", SDXL_BODY)
    assert answer["Error"]["Code"] == "ResourceNotFoundException"
    assert len(upstream.journal) == 1
    assert len(CassetteDir(tmp_path).keys()) == 1  # the refusal is worth replaying


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [(CALLER_KEY, "not-the-secret", "InvalidSignatureException"),
     ("AKIDSOMEONEELSE003", CALLER_SECRET, "UnrecognizedClientException")],
)
def test_strict_credentials_refuse_a_caller_before_anything_is_forwarded(
    door: str, upstream: MockServer, tmp_path: Path, key: str, secret: str, code: str
) -> None:
    with recorder(door, upstream, tmp_path, caller={CALLER_KEY: CALLER_SECRET}) as url:
        refused = invoke(url, SDXL, SDXL_BODY, key=key, secret=secret)
        assert len(upstream.journal) == 0
        answered = invoke(url, SDXL, SDXL_BODY)
    assert refused["Error"]["Code"] == code
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert answered["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(upstream.journal) == 1
    [key_of_cassette] = CassetteDir(tmp_path).keys()
    text = (tmp_path / f"{key_of_cassette}.json").read_text()
    assert CALLER_SECRET not in text and CALLER_KEY not in text
