"""`mock-bedrock serve --record DIR` then `--replay DIR`, as real processes: the way a user
records real Bedrock once and replays it in CI. "Real Bedrock" is a strict-SigV4 mock server,
so recording only works when the recorder re-signs with its own credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mock_bedrock.doors.server import MockServer
from tests.support.sdxl_contract import MODEL_ID
from tests.support.served import serving as served_command

RECORDER_KEY, RECORDER_SECRET = "AKIDRECORDERCLI01", "recorder-cli/secret"
BODY = json.dumps({"text_prompts": [{"text": "a harbour at dawn"}], "seed": 11, "steps": 10})


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The server's URL while it runs; it must then stop cleanly on SIGTERM."""
    with served_command(*args, base_env=env) as served:
        assert served.url.startswith("http://127.0.0.1:"), served.url
        yield served.url
        code, _, stderr = served.stop()
        assert code == 0, stderr


def invoke(url: str, body: str = BODY, key: str = "caller-key", secret: str = "caller-secret") -> bytes:
    client = boto3.client(
        "bedrock-runtime", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )
    data: bytes = client.invoke_model(modelId=MODEL_ID, body=body)["body"].read()
    return data


@pytest.fixture
def real_bedrock() -> Iterator[MockServer]:
    with MockServer(credentials={RECORDER_KEY: RECORDER_SECRET}) as upstream:
        yield upstream


def test_record_then_replay_through_the_command(real_bedrock: MockServer, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with serving("--record", str(cassettes), "--upstream", real_bedrock.endpoint_url,
                 env=recorder_environment()) as url:
        recorded = invoke(url)
    assert recorded == invoke(real_bedrock.endpoint_url, key=RECORDER_KEY, secret=RECORDER_SECRET)
    files = list(cassettes.glob("*.json"))
    assert len(files) == 1
    assert RECORDER_SECRET not in files[0].read_text() and RECORDER_KEY not in files[0].read_text()

    with serving("--replay", str(cassettes)) as url:
        assert invoke(url) == recorded
        with pytest.raises(ClientError) as caught:
            invoke(url, BODY.replace("dawn", "dusk"))
    assert caught.value.response["Error"]["Code"] == "CassetteNotFoundException"
    assert "dusk" in caught.value.response["Error"]["Message"]

    with serving("--replay", str(cassettes), "--replay-fallthrough") as url:
        placeholder: dict[str, Any] = json.loads(invoke(url, BODY.replace("dawn", "dusk")))
    assert placeholder["artifacts"][0]["finishReason"] == "SUCCESS"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--record", "a", "--replay", "."], "--record and --replay exclude each other"),
        (["--upstream", "http://127.0.0.1:1"], "--upstream and --region go with --record"),
        (["--replay-fallthrough"], "--replay-fallthrough goes with --replay"),
        (["--record-on-network"], "--record-on-network goes with --record"),
    ],
)
def test_contradictory_options_are_refused(args: list[str], complaint: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mock_bedrock.cli", "serve", *args],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert complaint in done.stderr


def recorder_environment() -> dict[str, str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": RECORDER_KEY,
           "AWS_SECRET_ACCESS_KEY": RECORDER_SECRET, "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def test_recording_on_a_network_address_needs_its_flag_and_says_why(tmp_path: Path) -> None:
    host = "0.0.0.0"
    done = subprocess.run(
        [sys.executable, "-m", "mock_bedrock.cli", "serve", "--port", "0", "--host", host,
         "--record", str(tmp_path / "cassettes"), "--upstream", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=30, check=False, env=recorder_environment())
    assert done.returncode == 2
    assert done.stdout == ""  # no URL: it never listened
    message = " ".join(done.stderr.split())
    assert f"--record with --host {host}" in message
    assert "spend your AWS money" in message and "--record-on-network" in message


def test_recording_checks_callers_with_strict_credentials(real_bedrock: MockServer,
                                                          tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with serving("--record", str(cassettes), "--upstream", real_bedrock.endpoint_url,
                 "--strict-credentials", "caller-key:caller-secret",
                 env=recorder_environment()) as url:
        with pytest.raises(ClientError) as caught:
            invoke(url, secret="a-guess")
        assert len(real_bedrock.journal) == 0
        recorded = invoke(url)  # the caller's own key: forwarded, re-signed, recorded
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert json.loads(recorded)["artifacts"][0]["finishReason"] == "SUCCESS"
    assert len(real_bedrock.journal) == 1 and len(list(cassettes.glob("*.json"))) == 1
