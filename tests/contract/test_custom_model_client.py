"""A model defined only by a folder named in ``BEDROCK_CONTRACT_PATH`` is validated by the
client library and offered by the CLI with its own options, with no code change (each run
is a fresh process: the catalogue is read once per process)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bedrock_contract import PATH_VARIABLE
from tests.support.custom_model import MODEL_ID, write_model_folder

SDXL = str(Path(sys.executable).parent / "sdxl")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    write_model_folder(tmp_path / "models")
    return {**os.environ, PATH_VARIABLE: str(tmp_path / "models")}


def run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_library_validates_and_generates(env: dict[str, str], tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "from sdxl_adapter import BedrockImageClient, InvalidRequest, ModelRequest\n"
        f"MODEL = {MODEL_ID!r}\n"
        "try:\n"
        "    ModelRequest(MODEL, headline='').validate()\n"
        "except InvalidRequest as err:\n"
        "    print(err)\n"
        "with BedrockImageClient('mock', model_id=MODEL) as client:\n"
        "    result = client.generate(ModelRequest(MODEL, headline='SALE', shape='3:1'))\n"
        "    print(result.output_format, result.seed > 0, result.finish_reason)\n"
        "    result.save(sys.argv[1])\n"
    )
    result = run(env, sys.executable, "-c", program, str(tmp_path / "poster.jpg"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    refusal, outcome = result.stdout.splitlines()
    assert refusal == ("Malformed input request: #/headline: expected minLength: 1, actual: 0, "
                       "please reformat your input and try again.")
    assert outcome == "jpeg True OK"
    with Image.open(tmp_path / "poster.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (1536, 512))


def test_the_cli_offers_the_models_own_options(env: dict[str, str], tmp_path: Path) -> None:
    helped = run(env, SDXL, "--model-id", MODEL_ID, "generate", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for option in ("--shape [1:1|3:1]", "--format [png|jpeg]", "--noise INTEGER RANGE",
                   "[0<=x<=999]", "--ink FLOAT RANGE"):
        assert option in helped.stdout
    made = run(env, SDXL, "--model-id", f"eu.{MODEL_ID}", "generate", "SALE", "--shape", "3:1",
               "--noise", "5", "--json", "-o", "poster.jpg", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["seed"] == 5
    data = (tmp_path / "poster.jpg").read_bytes()
    assert Image.open(io.BytesIO(data)).size == (1536, 512)
    refused = run(env, SDXL, "--model-id", MODEL_ID, "generate", "SALE", "--noise", "1000",
                  cwd=tmp_path)
    assert refused.returncode == 2 and "1000 is not in the range 0<=x<=999" in refused.stderr
    listed = run(env, SDXL, "models", "--json", cwd=tmp_path)
    assert MODEL_ID in {m["id"] for m in json.loads(listed.stdout)}
