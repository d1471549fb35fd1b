"""Clients other than boto3, with their default settings, changed only in their endpoint.

The AWS SDK for JavaScript v3 talks HTTP/2 (cleartext, prior knowledge, to an http:// URL)
to bedrock-runtime by default. Its packages come from npm, which a test run must not reach,
so this runs when `make js-sdk-check` has installed them (it sets SDXL_JS_SDK_DIR)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mock_bedrock.doors.server import MockServer
from tests import sdxl_contract as sdxl

SCRIPT = Path(__file__).parent / "js" / "invoke.mjs"
SDK_DIR = os.environ.get("SDXL_JS_SDK_DIR", "")
SDK_INSTALLED = bool(SDK_DIR) and (
    Path(SDK_DIR) / "node_modules" / "@aws-sdk" / "client-bedrock-runtime"
).is_dir()

pytestmark = pytest.mark.skipif(
    not (SDK_INSTALLED and shutil.which("node")),
    reason="the AWS SDK for JavaScript is not installed: run `make js-sdk-check`",
)


def test_javascript_sdk_with_default_settings(mock_bedrock_server: MockServer) -> None:
    script = Path(SDK_DIR) / "invoke.mjs"  # beside its node_modules, so imports resolve
    shutil.copyfile(SCRIPT, script)
    env = {**os.environ, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": mock_bedrock_server.endpoint_url,
           "AWS_ACCESS_KEY_ID": "js", "AWS_SECRET_ACCESS_KEY": "js"}
    done = subprocess.run(["node", str(script)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["invoked"]["artifacts"][0]["finishReason"] == "SUCCESS"
    assert found["invoked"]["artifacts"][0]["seed"] != 0
    assert found["streamed"] == found["invoked"]
    expected = sdxl.InvalidRequestBody(
        [sdxl.Violation("#/cfg_scale", "40 is not less or equal to 35")], sdxl.SDXL
    ).message
    assert found["refusal"]["name"] == "ValidationException"
    assert (found["refusal"]["status"], found["refusal"]["message"]) == (400, expected)
    assert found["refusal"]["requestId"]
