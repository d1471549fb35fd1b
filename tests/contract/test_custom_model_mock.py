"""A model defined only by a folder outside the project is served by the mock, through
both ways of naming the folder (the API and ``BEDROCK_CONTRACT_PATH``), with no code change.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from bedrock_contract import PATH_VARIABLE, Catalogue
from mock_bedrock import MockBedrock, mock_sdxl, read_parameters
from tests.support.custom_model import MODEL_ID, write_model_folder
from tests.support.served import serving

BODY = {"headline": "SALE", "avoid": "clutter", "shape": "3:1", "noise": 5}


def call(client: Any, body: dict[str, Any], model_id: str = MODEL_ID) -> dict[str, Any]:
    response = client.invoke_model(modelId=model_id, body=json.dumps(body),
                                   contentType="application/json")
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def check_answer(answer: dict[str, Any]) -> None:
    assert answer["noises"] == [5] and answer["outcomes"] == ["OK"]
    data = base64.b64decode(answer["posters"][0])
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (1536, 512))  # the folder's default format
    params = read_parameters(data)
    assert params["prompts"] == [{"text": "SALE", "weight": 1.0}, {"text": "clutter", "weight": -1.0}]


def test_a_folder_given_to_the_api_is_served_in_process(tmp_path: Path) -> None:
    catalogue = Catalogue.load((write_model_folder(tmp_path),))
    with mock_sdxl(MockBedrock(catalogue=catalogue)):
        client = boto3.client("bedrock-runtime", region_name="eu-west-1")
        check_answer(call(client, BODY))
        check_answer(call(client, BODY, f"eu.{MODEL_ID}"))
        with pytest.raises(ClientError) as refused:
            call(client, {"headline": ""})
        assert refused.value.response["Error"]["Message"] == (
            "Malformed input request: #/headline: expected minLength: 1, actual: 0, please "
            "reformat your input and try again."
        )
        # The built-in models are still there beside it.
        call(client, {"prompt": "x"}, "stability.stable-image-core-v1:1")


def test_a_folder_named_by_the_environment_is_served_by_mock_bedrock_serve(
    tmp_path: Path,
) -> None:
    write_model_folder(tmp_path / "models")
    env = {**os.environ, PATH_VARIABLE: str(tmp_path / "models")}
    with serving(env=env) as served:
        assert served.url.startswith("http://127.0.0.1:"), served.url
        client = boto3.client("bedrock-runtime", endpoint_url=served.url,
                              region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
        check_answer(call(client, BODY))
