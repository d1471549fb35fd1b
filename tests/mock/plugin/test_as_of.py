"""The pytest plugin answers as of a date: ``--mock-bedrock-as-of`` for the session and the
``mock_bedrock_as_of`` marker for one test, as a user's own test run sees them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = '''
import json

import pytest
from botocore.exceptions import ClientError

SDXL = "stability.stable-diffusion-xl-v1"
BODY = json.dumps({"text_prompts": [{"text": "x"}]})


def outcome(client):
    try:
        client.invoke_model(modelId=SDXL, body=BODY, contentType="application/json")
    except ClientError as err:
        return err.response["Error"]["Code"]
    return "served"


def test_session_date(bedrock_runtime, request):
    expected = request.config.getoption("mock_bedrock_as_of") and "ResourceNotFoundException"
    assert outcome(bedrock_runtime) == (expected or "served")


@pytest.mark.mock_bedrock_as_of("2025-06-01")
def test_after_sdxl_end_of_life(bedrock_runtime):
    assert outcome(bedrock_runtime) == "ResourceNotFoundException"


@pytest.mark.mock_bedrock_as_of("2024-06-01")
def test_before_sdxl_end_of_life(bedrock_runtime):
    assert outcome(bedrock_runtime) == "served"


@pytest.mark.mock_bedrock_as_of("2025-06-01")
def test_marker_reaches_the_server(mock_bedrock_endpoint):
    import boto3

    assert outcome(boto3.client("bedrock-runtime")) == "ResourceNotFoundException"


@pytest.mark.mock_bedrock_as_of("2024-06-01")
def test_marker_reaches_the_server_alone(mock_bedrock_server):
    import boto3

    client = boto3.client("bedrock-runtime", endpoint_url=mock_bedrock_server.endpoint_url,
                          region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    assert outcome(client) == "served"


def test_server_door_too(mock_bedrock_endpoint, request):
    import boto3

    client = boto3.client("bedrock-runtime")
    expected = request.config.getoption("mock_bedrock_as_of") and "ResourceNotFoundException"
    assert outcome(client) == (expected or "served")
'''


def run(tmp_path: Path, *args: str, tests: str = USER_TESTS) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(tests, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_markers_set_the_date_of_one_test_and_the_session_serves_every_model(
    tmp_path: Path,
) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_the_option_sets_the_date_for_both_doors(tmp_path: Path) -> None:
    result = run(tmp_path, "--mock-bedrock-as-of", "today")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_a_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--mock-bedrock-as-of", "someday")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "'someday' is not a date: give YYYY-MM-DD or 'today'" in result.stderr


WARNED_TESTS = '''
import json

import boto3
import pytest
from botocore.exceptions import ClientError

SDXL = "stability.stable-diffusion-xl-v1"
CORE = "stability.stable-image-core-v1:1"


def call(client, model, body):
    client.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json")


def test_sdxl_in_process(bedrock_runtime):
    for _ in range(2):  # two calls, one warning
        call(bedrock_runtime, SDXL, {"text_prompts": [{"text": "x"}]})


def test_sdxl_on_the_server(mock_bedrock_endpoint):
    call(boto3.client("bedrock-runtime"), SDXL, {"text_prompts": [{"text": "x"}]})


def test_core_on_both(bedrock_runtime, mock_bedrock_endpoint):
    call(bedrock_runtime, CORE, {"prompt": "x"})


@pytest.mark.mock_bedrock_as_of("2025-06-01")
def test_sdxl_refused(bedrock_runtime):
    with pytest.raises(ClientError):
        call(bedrock_runtime, SDXL, {"text_prompts": [{"text": "x"}]})
'''


def test_a_call_answered_past_its_end_of_life_is_a_warning_naming_the_way_out(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, "-p", "no:randomly", tests=WARNED_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed, 2 warnings" in result.stdout
    summary = result.stdout[result.stdout.index("warnings summary"):]
    warned = [line for line in summary.splitlines() if line.startswith("test_user.py::")]
    assert warned == ["test_user.py::test_sdxl_in_process", "test_user.py::test_sdxl_on_the_server"]
    assert summary.count(
        "EndOfLifeWarning: stability.stable-diffusion-xl-v1 reached its end of life on "
        "2025-05-20: Bedrock refuses it, and this call was answered only because the mock's "
        "date allows it; move to stability.stable-image-core-v1:1") == 2
