"""A model whose fields are nested and whose answer has its own envelope (tests/support/nested_model.py),
defined only by a folder in a temporary directory, is validated, served through both doors,
offered by the CLI with its nested fields as options, and covered by the contract suite, with
no code change: every location is a JSON Pointer in its profile.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from bedrock_contract import PATH_VARIABLE, Catalogue
from mock_bedrock import MockBedrock, mock_sdxl, read_parameters
from mock_bedrock.doors.server import MockServer
from sdxl_adapter.contract import checks as suite_checks, runner as suite
from tests.support.nested_model import FAMILY, MODEL_ID, write_model_folder

BODY = {"scene": {"caption": "SALE", "avoid": "clutter"},
        "render": {"noise": 5, "width": 1024, "height": 512}}
FRAME = "Malformed input request: {}, please reformat your input and try again."
SDXL = str(Path(sys.executable).parent / "sdxl")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_model_folder(tmp_path / "models")


@pytest.fixture(params=["inprocess", "server"])
def nested_client(request: pytest.FixtureRequest, folder: Path) -> Iterator[Any]:
    app = MockBedrock(catalogue=Catalogue.load((folder,)))
    if request.param == "inprocess":
        with mock_sdxl(app):
            yield boto3.client("bedrock-runtime", region_name="us-east-1")
        return
    with MockServer(app=app) as server:
        yield boto3.client("bedrock-runtime", endpoint_url=server.endpoint_url,
                           region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x")


def call(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke_model(modelId=MODEL_ID, body=json.dumps(body))
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def refusal(client: Any, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call(client, body)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    message: str = refused.value.response["Error"]["Message"]
    return message


def test_the_mock_serves_it_through_both_doors(nested_client: Any) -> None:
    answer = call(nested_client, BODY)
    # The envelope the profile places by pointers: parallel lists inside "result".
    assert list(answer) == ["result"]
    assert answer["result"]["noises"] == [5] and answer["result"]["outcomes"] == ["OK"]
    data = base64.b64decode(answer["result"]["pictures"][0])
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (1024, 512))  # the nested size, format
    params = read_parameters(data)
    assert params["prompts"] == [{"text": "SALE", "weight": 1.0},
                                 {"text": "clutter", "weight": -1.0}]
    assert params["requested_seed"] == 5
    assert call(nested_client, BODY) == answer  # the same body, the same answer
    png = call(nested_client, {**BODY, "render": {**BODY["render"], "format": "png"}})
    with Image.open(io.BytesIO(base64.b64decode(png["result"]["pictures"][0]))) as image:
        assert image.format == "PNG"


def test_nested_fields_are_refused_in_everits_words(nested_client: Any) -> None:
    # Checked against everit 1.14.3 itself: the pointers run into the nested objects, and
    # multipleOf is worded as everit's NumberSchemaValidatingVisitor words it.
    assert refusal(nested_client, {"scene": {"caption": ""}, "render": {"width": 1000}}) == \
        FRAME.format("#/render/width: 1000 is not a multiple of 64"
                     "#/scene/caption: expected minLength: 1, actual: 0")
    assert refusal(nested_client, {"render": {}}) == \
        FRAME.format("#: required key [scene] not found")
    assert refusal(nested_client, {"scene": {"caption": "x", "font": "serif"}}) == \
        FRAME.format("#/scene: extraneous key [font] is not permitted")
    # The size rule's own limit (pixels), pointed at the object holding the size.
    assert refusal(nested_client, {"scene": {"caption": "x"},
                                   "render": {"width": 1536, "height": 1024}}) == \
        FRAME.format("#/render: size 1536x1024 has 1572864 pixels; at most 1000000 are allowed")


def test_the_contract_suite_covers_it_through_both_doors(nested_client: Any,
                                                         folder: Path) -> None:
    found = suite_checks.family_checks(Catalogue.load((folder,)).family(FAMILY))
    names = {c.name for c in found}
    for name in ("an explicit seed is echoed", "output_format png", "render/paint chalk",
                 "scene/caption too long", "render/width not a multiple of 64", "no scene",
                 "render/noise above its maximum"):
        assert f"{FAMILY}: {name}" in names
    report = suite.run_suite(nested_client, found)
    assert report.passed, report.render()


def run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_cli_and_the_contract_option_offer_it(folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, PATH_VARIABLE: str(folder.parent)}
    helped = run(env, SDXL, "--model-id", MODEL_ID, "generate", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for option in ("--noise INTEGER RANGE", "[0<=x<=999]", "--width INTEGER RANGE",
                   "--paint [oil|chalk]", "--format [png|jpeg]", "[render/noise]"):
        assert option in helped.stdout, option
    made = run(env, SDXL, "--model-id", MODEL_ID, "generate", "SALE", "--negative", "clutter",
               "--noise", "5", "--width", "1024", "--json", "-o", "mural.jpg", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["seed"] == 5
    with Image.open(tmp_path / "mural.jpg") as image:
        assert image.size == (1024, 512)
    refused = run(env, SDXL, "--model-id", MODEL_ID, "generate", "SALE", "--width", "1000",
                  cwd=tmp_path)
    assert refused.returncode != 0
    assert "#/render/width: 1000 is not a multiple of 64" in refused.stderr
    # The contract suite as pytest items (--bedrock-contract), of the folder's model only.
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    items = run(env, sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                "--bedrock-contract=mock", "--bedrock-contract-model", MODEL_ID, "-q",
                "-p", "no:randomly", "-p", "no:xdist", cwd=tmp_path)
    assert items.returncode == 0, items.stdout + items.stderr
    checks = suite_checks.family_checks(Catalogue.load((folder,)).family(FAMILY))
    assert f"{len(checks) + 1} passed" in items.stdout  # and the project's own test
