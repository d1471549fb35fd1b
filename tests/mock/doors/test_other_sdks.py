"""Clients other than boto3, with their default settings, changed only in their endpoint.

The AWS SDK for JavaScript v3 talks HTTP/2 (cleartext, prior knowledge, to an http:// URL)
to bedrock-runtime by default. Its packages come from npm, which a test run must not reach,
so this runs when `make js-sdk-check` has installed them (it sets SDXL_JS_SDK_DIR).

The server checks signatures (``mock-bedrock serve --strict-credentials``): over HTTP/2 the
JavaScript SDK signs ``:authority`` where other clients sign ``host``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import sdxl_contract as sdxl
from tests.support.paths import TESTS
from tests.support.served import serving

SCRIPT = TESTS / "js" / "invoke.mjs"
SDK_DIR = os.environ.get("SDXL_JS_SDK_DIR", "")
SDK_INSTALLED = bool(SDK_DIR) and (
    Path(SDK_DIR) / "node_modules" / "@aws-sdk" / "client-bedrock-runtime"
).is_dir()

pytestmark = pytest.mark.skipif(
    not (SDK_INSTALLED and shutil.which("node")),
    reason="the AWS SDK for JavaScript is not installed: run `make js-sdk-check`",
)
KEY, SECRET = "AKIDJAVASCRIPT", "js-secret"


@pytest.fixture
def strict_server_url() -> Iterator[str]:
    """``mock-bedrock serve --strict-credentials KEY:SECRET`` on a free port: its URL."""
    with serving("--strict-credentials", f"{KEY}:{SECRET}") as served:
        yield served.url


def test_javascript_sdk_with_default_settings(strict_server_url: str) -> None:
    assert strict_server_url.startswith("http://127.0.0.1:")
    script = Path(SDK_DIR) / "invoke.mjs"  # beside its node_modules, so imports resolve
    shutil.copyfile(SCRIPT, script)
    env = {**os.environ, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": strict_server_url,
           "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
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
    wrong_secret = found["wrongSecret"]
    assert (wrong_secret["name"], wrong_secret["status"]) == ("InvalidSignatureException", 403)
    assert wrong_secret["message"].startswith(
        "The request signature we calculated does not match the signature you provided.")
