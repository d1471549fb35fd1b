"""An unknown ``AWS_PROFILE`` or an unreadable ``AWS_CONFIG_FILE`` stops nothing but calls to
AWS itself: ``--help``, the mock, its server and a pytest run with the plugins installed
read no AWS configuration, and ``--endpoint aws`` says what is wrong in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support.served import serving

BIN = Path(sys.executable).parent


@pytest.fixture(params=["unknown profile", "unreadable config"])
def broken_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if request.param == "unknown profile":
        env["AWS_PROFILE"] = "no-such-profile"
    else:
        broken = tmp_path / "config"
        broken.write_text("[default\nregion = us-east-1\n", encoding="utf-8")
        env["AWS_CONFIG_FILE"] = str(broken)
    yield env


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_help_and_models_work(broken_env: dict[str, str]) -> None:
    for args in (["--help"], ["models"], ["--model-id", "stability.sd3-5-large-v1:0",
                                           "generate", "--help"]):
        result = run(broken_env, str(BIN / "sdxl"), *args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_the_mock_endpoint_generates(broken_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    result = run(broken_env, str(BIN / "sdxl"), "--model-id", "stability.stable-image-core-v1:1",
                 "generate", "a lighthouse", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0


def test_the_aws_endpoint_gives_one_line_and_its_exit_code(broken_env: dict[str, str]) -> None:
    result = run(broken_env, str(BIN / "sdxl"), "--endpoint", "aws", "--model-id",
                 "stability.stable-image-core-v1:1", "generate", "a lighthouse")
    assert result.returncode == 13  # AWS configuration
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "no-such-profile" in errors[0] or "cannot be read" in errors[0]


def test_mock_bedrock_serve_answers(broken_env: dict[str, str]) -> None:
    with serving(base_env=broken_env, script=True) as served:
        assert served.url.startswith("http://127.0.0.1:")
        client = boto3.client("bedrock-runtime", endpoint_url=served.url, region_name="us-west-2",
                              aws_access_key_id="x", aws_secret_access_key="x")
        response = client.invoke_model(modelId="stability.stable-image-core-v1:1",
                                       body=json.dumps({"prompt": "x"}))
        assert json.loads(response["body"].read())["finish_reasons"] == [None]


def test_a_pytest_run_with_the_plugins_installed(broken_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "import json\n"
        "def test_mock(bedrock_runtime):\n"
        "    r = bedrock_runtime.invoke_model(modelId='stability.stable-image-ultra-v1:1',\n"
        "                                     body=json.dumps({'prompt': 'x'}))\n"
        "    assert json.loads(r['body'].read())['finish_reasons'] == [None]\n"
        "def test_plain():\n"
        "    assert True\n",
        encoding="utf-8",
    )
    result = run(broken_env, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "test_user.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
