"""Defaults on the live models (issue 19): ``sdxl`` without ``--model-id`` is Stable Image
Core v1:1 and says so; SDXL stays one ``--model-id`` away, and a call to it answered past its
end of life (the mock's date allows it) ends with a warning line; ``--as-of`` dates the
in-process mock; the neutral names work beside the old ones."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result

import mock_bedrock
import sdxl_adapter
from mock_bedrock.doors.server import MockServer
from sdxl_adapter import errors
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.client import BedrockImageClient, SDXLClient
from sdxl_adapter.request import ModelRequest, SDXLRequest

CORE = "stability.stable-image-core-v1:1"
SDXL = "stability.stable-diffusion-xl-v1"
WARNING = (f"warning: {SDXL} reached its end of life on 2025-05-20: Bedrock refuses it, and "
           f"this call was answered only because the mock's date allows it; move to {CORE} "
           f"(`sdxl migrate BODY --to {CORE}`)")


def sdxl(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_names_the_default_model_and_how_to_reach_sdxl() -> None:
    wide = CliRunner().invoke(main, ["--help"], terminal_width=400, max_content_width=400)
    shown = " ".join(wide.stdout.split())  # the help text's own line breaks
    assert "Stable Image Core v1:1 by default" in shown
    assert f"[default: {CORE}]" in shown
    assert f"--model-id {SDXL} still reaches it" in shown


def test_no_model_id_generates_with_stable_image_core(in_tmp: Path) -> None:
    done = sdxl("generate", "a lighthouse", "--aspect-ratio", "16:9", "--seed", "4", "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["model_id"], summary["size"]) == (CORE, "1344x768")
    assert "end of life" not in done.stderr


def test_sdxl_answered_by_the_mock_is_flagged_on_stderr(in_tmp: Path) -> None:
    done = sdxl("--model-id", SDXL, "generate", "a lighthouse", "--cfg-scale", "9")
    assert done.exit_code == 0, done.output
    assert done.stderr.splitlines()[-1] == WARNING


def test_sdxl_answered_by_a_server_is_flagged_too(
    in_tmp: Path, mock_bedrock_endpoint: str, mock_bedrock_server: MockServer
) -> None:
    done = sdxl("--endpoint", mock_bedrock_endpoint, "--model-id", SDXL, "generate", "x")
    assert done.exit_code == 0, done.output
    assert WARNING in done.stderr.splitlines()
    assert mock_bedrock_server.journal.entries()[-1].end_of_life == {
        "model_id": SDXL, "eol": "2025-05-20", "replacement": CORE}


def test_a_batch_on_sdxl_is_flagged_once(in_tmp: Path) -> None:
    (in_tmp / "lines.jsonl").write_text('"one"\n"two"\n')
    done = sdxl("--model-id", SDXL, "batch", "lines.jsonl", "--out-dir", "out")
    assert done.exit_code == 0, done.output
    batch_warning = WARNING.replace("this call was", "these calls were")
    assert done.stderr.splitlines().count(batch_warning) == 1


@pytest.mark.parametrize(("day", "code"), [("2025-05-19", 0), ("2025-05-20", 14)])
def test_as_of_dates_the_in_process_mock(in_tmp: Path, day: str, code: int) -> None:
    done = sdxl("--as-of", day, "--model-id", SDXL, "generate", "x")
    assert done.exit_code == code, done.output
    assert f"endpoint: mock (in-process, as of {day}), model {SDXL}" in done.stderr
    if code:
        assert code == ExitCode.MODEL_END_OF_LIFE
        assert done.stderr.splitlines()[-1].startswith(f"Error: {SDXL} has reached its end")
    else:
        assert done.stderr.splitlines()[-1] == WARNING  # served that day; retired today


def test_as_of_today_serves_the_default_model_without_a_warning(in_tmp: Path) -> None:
    done = sdxl("--endpoint", "mock", "--as-of", "today", "generate", "x")
    assert done.exit_code == 0, done.output
    assert "warning" not in done.stderr


def test_a_bad_as_of_is_a_usage_error() -> None:
    done = sdxl("--as-of", "someday", "generate", "x")
    assert done.exit_code == ExitCode.USAGE
    assert "'someday' is not a date: give YYYY-MM-DD or 'today'" in done.stderr


def test_as_of_dates_only_the_in_process_mock() -> None:
    done = sdxl("--endpoint", "aws", "--as-of", "2025-01-01", "generate", "x")
    assert done.exit_code == ExitCode.USAGE
    assert "--as-of dates the in-process mock (--endpoint mock)" in done.stderr


# --- the library: defaults and names ---------------------------------------------------------


def test_the_client_defaults_to_core_and_sends_an_sdxl_request_to_sdxl() -> None:
    with BedrockImageClient("mock") as client:
        assert client.model_id == CORE
        core = client.generate(ModelRequest(CORE, prompt="x"))
        old = client.generate(SDXLRequest(prompt="x"))
        assert client.mock is not None
        called = [entry.model_id for entry in client.mock.journal.entries()]
    assert (core.model_id, old.model_id, called) == (CORE, SDXL, [CORE, SDXL])
    with BedrockImageClient("mock", model_id=CORE) as named, pytest.raises(
            errors.ClientConfigError, match="an SDXLRequest is for SDXL"):
        named.generate(SDXLRequest(prompt="x"))


def test_the_old_client_name_keeps_sdxl_as_its_default() -> None:
    with SDXLClient("mock") as client:
        assert client.model_id == SDXL
        assert client.invoke_body({"text_prompts": [{"text": "x"}]}).model_id == SDXL


def test_the_error_base_has_a_neutral_name_and_keeps_its_old_one() -> None:
    assert sdxl_adapter.BedrockImageError is errors.BedrockImageError is errors.SDXLError
    assert sdxl_adapter.SDXLError is errors.BedrockImageError
    with BedrockImageClient("mock") as client:
        for name in ("BedrockImageError", "SDXLError"):
            with pytest.raises(getattr(errors, name)):
                client.generate(ModelRequest(CORE, prompt="x", aspect_ratio="7:5"))


@pytest.mark.parametrize("name", ["mock_image_models", "mock_sdxl"])
def test_the_in_process_mock_has_a_neutral_name_and_keeps_its_old_one(name: str) -> None:
    with getattr(mock_bedrock, name)() as mock:
        client = boto3.client("bedrock-runtime", region_name="us-east-1")
        answer = client.invoke_model(modelId=CORE, body=json.dumps({"prompt": "x"}))
        assert json.loads(answer["body"].read())["finish_reasons"] == [None]
        assert [entry.model_id for entry in mock.journal.entries()] == [CORE]
