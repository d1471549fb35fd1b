"""What the server door's tests send: one SDXL call, as boto3 makes it and as raw bytes, and
where the server listens."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

from mock_bedrock.doors.server import MockServer

MODEL_ID = "stability.stable-diffusion-xl-v1"
INVOKE_PATH = f"/model/{MODEL_ID}/invoke"
STREAM_PATH = f"/model/{MODEL_ID}/invoke-with-response-stream"
BODY = json.dumps({"text_prompts": [{"text": "a stone bridge"}], "seed": 11}).encode()
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                     read_timeout=30)
_SESSION = boto3.session.Session()


def bedrock(url: str, access_key: str = "k") -> Any:
    """A boto3 client on ``url`` that tries once (a retry would hide a dropped call)."""
    return _SESSION.client("bedrock-runtime", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id=access_key, aws_secret_access_key="s",
                           config=ONE_ATTEMPT)


def invoke_bytes(url: str) -> bytes:
    data: bytes = bedrock(url).invoke_model(body=BODY, modelId=MODEL_ID)["body"].read()
    return data


def address(server: MockServer) -> tuple[str, int]:
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def answers_correctly(server: MockServer) -> bool:
    return json.loads(invoke_bytes(server.endpoint_url))["result"] == "success"
