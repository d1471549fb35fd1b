"""In process, on a machine with no credentials anywhere, a boto3 client made before the mock
starts (at module level, as user code does) is answered by it: the call the mock answers is
left unsigned. A mock that checks signatures still gets them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLIENT_FIRST = """
import json, sys
import boto3
from mock_bedrock import mock_sdxl

client = boto3.client("bedrock-runtime", region_name="us-east-1")  # no credentials found


def invoke():
    body = json.dumps({"prompt": "a lighthouse"})
    response = client.invoke_model(modelId="stability.stable-image-core-v1:1", body=body)
    return json.loads(response["body"].read())["finish_reasons"]


with mock_sdxl():
    print(invoke())
with mock_sdxl(credentials={"AKIDSTRICT": "secret"}):  # checks signatures: signs, so fails
    try:
        invoke()
    except Exception as err:
        print(type(err).__name__)
"""

USER_TEST = """
import json
import boto3

client = boto3.client("bedrock-runtime", region_name="us-east-1")


def test_a_module_level_client_is_answered(mock_bedrock):
    body = json.dumps({"prompt": "a lighthouse"})
    response = client.invoke_model(modelId="stability.stable-image-core-v1:1", body=body)
    assert json.loads(response["body"].read())["finish_reasons"] == [None]
    assert len(mock_bedrock.journal.entries()) == 1
"""


def no_credentials_env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true"}


def test_a_client_made_before_mock_sdxl_without_credentials_is_answered(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", CLIENT_FIRST], env=no_credentials_env(tmp_path),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[None]", "NoCredentialsError"]


def test_the_pytest_fixture_answers_a_module_level_client_without_credentials(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        env=no_credentials_env(tmp_path), cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
