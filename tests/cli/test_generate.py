"""``sdxl generate`` through click's test runner: the default (in-process mock) endpoint, a
running mock server's URL, every option reaching the body, refusals and outcomes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import bedrock_contract
from mock_bedrock.doors.server import MockServer
from mock_bedrock.placeholder import read_parameters as read_placeholder
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.models import SDXL_MODEL_ID, sdxl_contract
from sdxl_adapter.result import read_parameters
from tests.support.images import image_bytes

CONTRACT = sdxl_contract()
assert isinstance(CONTRACT.size, bedrock_contract.PairsRule)
SDXL_SIZES = CONTRACT.size.allowed


def sdxl(*args: str, input: bytes | None = None) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in tests/cli/test_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], input=input, catch_exceptions=False)


def last_body(server: MockServer) -> dict[str, Any]:
    entries = server.journal.entries()
    assert entries, "nothing reached the mock"
    body: dict[str, Any] = entries[-1].body
    return body


# --- the default endpoint: the in-process mock ---------------------------------------------


def test_default_endpoint_is_the_mock_and_says_so(in_tmp: Path) -> None:
    result = sdxl("generate", "a lighthouse at dusk", "--seed", "42")
    assert result.exit_code == 0, result.output
    image = in_tmp / "sdxl-42.png"
    assert image.is_file()
    assert f"wrote {image}" in result.stdout
    assert "seed 42, finish reason SUCCESS" in result.stdout
    assert "placeholder" in result.stdout
    assert "endpoint: mock" in result.stderr
    # The saved PNG records what produced it, and is the mock's placeholder for that body.
    params = read_parameters(image)
    assert params["prompt"] == "a lighthouse at dusk"
    assert params["seed"] == "42"
    assert read_placeholder(image.read_bytes())["seed"] == 42


def test_default_name_never_clobbers(in_tmp: Path) -> None:
    first = sdxl("generate", "one", "--seed", "7")
    second = sdxl("generate", "two", "--seed", "7")
    assert first.exit_code == second.exit_code == 0
    assert read_parameters(in_tmp / "sdxl-7.png")["prompt"] == "one"
    assert read_parameters(in_tmp / "sdxl-7-2.png")["prompt"] == "two"


def test_output_into_a_folder_uses_the_default_name(in_tmp: Path) -> None:
    (in_tmp / "pics").mkdir()
    result = sdxl("generate", "x", "--seed", "3", "-o", "pics")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "pics" / "sdxl-3.png").is_file()


def test_existing_output_is_refused_unless_overwrite(in_tmp: Path) -> None:
    target = in_tmp / "out.png"
    target.write_bytes(b"mine")
    refused = sdxl("generate", "x", "-o", str(target))
    assert refused.exit_code == ExitCode.OUTPUT_UNWRITABLE
    assert "--overwrite" in refused.stderr
    assert target.read_bytes() == b"mine"
    replaced = sdxl("generate", "x", "-o", str(target), "--overwrite", "--seed", "9")
    assert replaced.exit_code == 0, replaced.output
    assert read_parameters(target)["seed"] == "9"


def test_json_summary(in_tmp: Path) -> None:
    result = sdxl("generate", "x", "--seed", "11", "--size", "1152x896", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["file"] == str(in_tmp / "sdxl-11.png")
    assert summary["seed"] == 11
    assert summary["finish_reason"] == "SUCCESS"
    assert summary["size"] == "1152x896"
    assert summary["endpoint"] == "mock"
    assert summary["placeholder"] is True
    assert summary["request_id"]


def test_streaming_generates_the_same_image(in_tmp: Path) -> None:
    plain = sdxl("generate", "x", "--seed", "5", "-o", "plain.png")
    streamed = sdxl("generate", "x", "--seed", "5", "-o", "streamed.png", "--stream")
    assert plain.exit_code == streamed.exit_code == 0
    assert (in_tmp / "plain.png").read_bytes() == (in_tmp / "streamed.png").read_bytes()


# --- every option reaches the body (journal of a running mock server) ----------------------


def test_text_to_image_options_reach_the_body(mock_bedrock_endpoint: str,
                                              mock_bedrock_server: MockServer,
                                              in_tmp: Path) -> None:
    result = sdxl(
        "--endpoint", mock_bedrock_endpoint,
        "generate", "a fox", "-n", "blur", "--negative", "text",
        "--size", "896x1152", "--cfg-scale", "12.5", "--steps", "40", "--seed", "1234",
        "--sampler", "K_HEUN", "--style", "origami", "--clip-guidance", "FAST_BLUE",
        "--samples", "1", "--extras", '{"lora": "x"}', "-o", "fox.png",
    )
    assert result.exit_code == 0, result.output
    assert mock_bedrock_endpoint in result.stderr
    assert last_body(mock_bedrock_server) == {
        "text_prompts": [
            {"text": "a fox"}, {"text": "blur", "weight": -1}, {"text": "text", "weight": -1},
        ],
        "height": 1152, "width": 896, "cfg_scale": 12.5, "clip_guidance_preset": "FAST_BLUE",
        "sampler": "K_HEUN", "samples": 1, "seed": 1234, "steps": 40,
        "style_preset": "origami", "extras": {"lora": "x"},
    }
    params = read_parameters(in_tmp / "fox.png")
    assert params["negative_prompt"] == "blur\ntext"
    assert params["size"] == "896x1152"


def test_image_to_image_options_reach_the_body(mock_bedrock_endpoint: str,
                                               mock_bedrock_server: MockServer,
                                               in_tmp: Path) -> None:
    init = image_bytes((1216, 832))
    (in_tmp / "init.png").write_bytes(init)
    result = sdxl(
        "--endpoint", mock_bedrock_endpoint, "generate", "watercolour",
        "--init-image", "init.png", "--init-image-mode", "STEP_SCHEDULE",
        "--image-strength", "0.4", "--step-schedule-start", "0.6",
        "--step-schedule-end", "0.9",
    )
    assert result.exit_code == 0, result.output
    body = last_body(mock_bedrock_server)
    assert base64.b64decode(body.pop("init_image")) == init
    assert body == {
        "text_prompts": [{"text": "watercolour"}], "init_image_mode": "STEP_SCHEDULE",
        "image_strength": 0.4, "step_schedule_start": 0.6, "step_schedule_end": 0.9,
    }


def test_masking_options_reach_the_body(mock_bedrock_endpoint: str,
                                        mock_bedrock_server: MockServer, in_tmp: Path) -> None:
    init, mask = image_bytes((1024, 1024)), image_bytes((1024, 1024), color=(255, 255, 255))
    (in_tmp / "init.png").write_bytes(init)
    (in_tmp / "mask.png").write_bytes(mask)
    result = sdxl(
        "--endpoint", mock_bedrock_endpoint, "generate", "a red door",
        "--init-image", "init.png", "--mask-source", "MASK_IMAGE_WHITE",
        "--mask-image", "mask.png",
    )
    assert result.exit_code == 0, result.output
    body = last_body(mock_bedrock_server)
    assert base64.b64decode(body["init_image"]) == init
    assert base64.b64decode(body["mask_image"]) == mask
    assert body["mask_source"] == "MASK_IMAGE_WHITE"


def test_body_file_is_sent(mock_bedrock_endpoint: str, mock_bedrock_server: MockServer,
                           in_tmp: Path) -> None:
    sent = {"text_prompts": [{"text": "tea plantation"}], "cfg_scale": 10, "seed": 77,
            "steps": 50, "style_preset": "photographic"}
    (in_tmp / "body.json").write_text(json.dumps(sent))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "--body", "body.json")
    assert result.exit_code == 0, result.output
    assert last_body(mock_bedrock_server) == sent
    assert (in_tmp / "sdxl-77.png").is_file()


def test_body_from_stdin(in_tmp: Path) -> None:
    body = json.dumps({"text_prompts": [{"text": "x"}], "seed": 8}).encode()
    result = sdxl("generate", "--body", "-", input=body)
    assert result.exit_code == 0, result.output
    assert (in_tmp / "sdxl-8.png").is_file()


def test_body_with_a_prompt_is_a_usage_error(in_tmp: Path) -> None:
    (in_tmp / "body.json").write_text('{"text_prompts": [{"text": "x"}]}')
    result = sdxl("generate", "other", "--steps", "20", "--body", "body.json")
    assert result.exit_code == ExitCode.USAGE
    assert "--steps" in result.stderr


# --- --help lists the contract -------------------------------------------------------------


def test_help_lists_the_schema_choices_and_ranges() -> None:
    text = sdxl("generate", "--help").stdout.replace("\n", " ")
    for name in ("sampler", "style_preset", "clip_guidance_preset", "init_image_mode",
                 "mask_source"):
        assert "|".join(CONTRACT.field(name)["enum"]) in text, name
    for width, height in SDXL_SIZES:
        assert f"{width}x{height}" in text
    steps = CONTRACT.field("steps")
    assert f"{steps['minimum']}<=x<={steps['maximum']}" in text


def test_group_help_documents_every_exit_code() -> None:
    text = sdxl("--help").stdout
    for code in ExitCode:
        assert f"{code.value:>3}  {code.meaning}" in text


# --- refusals: nothing is sent -------------------------------------------------------------


def test_value_outside_the_schema_range_is_a_usage_error(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    maximum = CONTRACT.field("steps")["maximum"]
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x", "--steps",
                  str(maximum + 1))
    assert result.exit_code == ExitCode.USAGE
    assert len(mock_bedrock_server.journal) == 0


def test_contract_refusal_is_worded_as_bedrock_and_sends_nothing(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x",
                  "--step-schedule-start", "0.5")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert "Malformed input request: #: property [init_image] is required" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(mock_bedrock_server.journal) == 0


def test_invalid_body_file_is_refused(in_tmp: Path) -> None:
    (in_tmp / "body.json").write_text('{"text_prompts": [], "steps": 5}')
    result = sdxl("generate", "--body", "body.json")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert "#/steps: 5 is not greater or equal to 10" in result.stderr


def test_dry_run_prints_the_body_with_images_elided_and_sends_nothing(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    (in_tmp / "init.png").write_bytes(image_bytes((1024, 1024)))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x", "--init-image",
                  "init.png", "--image-strength", "0.3", "--dry-run")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["image_strength"] == 0.3
    assert body["init_image"].startswith("<base64 image, ")
    assert "nothing sent" in result.stderr
    assert len(mock_bedrock_server.journal) == 0
    assert list(in_tmp.glob("*.png")) == [in_tmp / "init.png"]


@pytest.mark.parametrize("option", ["--init-image", "--mask-image", "--body"])
def test_unreadable_input_file(option: str, in_tmp: Path) -> None:
    args = ["generate", "--body", "missing.png"] if option == "--body" else [
        "generate", "x", "--init-image", "missing.png", "--mask-source", "INIT_IMAGE_ALPHA"
    ]
    if option == "--mask-image":
        (in_tmp / "init.png").write_bytes(image_bytes((1024, 1024)))
        args = ["generate", "x", "--init-image", "init.png", "--mask-source",
                "MASK_IMAGE_WHITE", "--mask-image", "missing.png"]
    result = sdxl(*args)
    assert result.exit_code == ExitCode.INPUT_UNREADABLE
    assert "cannot read missing.png" in result.stderr


def test_output_folder_that_does_not_exist(in_tmp: Path) -> None:
    result = sdxl("generate", "x", "-o", "no/such/dir/x.png")
    assert result.exit_code == ExitCode.OUTPUT_UNWRITABLE
    assert "no such directory" in result.stderr


# --- outcomes the service reports ----------------------------------------------------------


def test_content_filtered_exits_non_zero_and_keeps_nothing(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    mock_bedrock_server.faults.add(FaultRule(finish_reason="CONTENT_FILTERED"))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x", "--seed", "4")
    assert result.exit_code == ExitCode.CONTENT_FILTERED
    assert "content filtered" in result.stderr
    assert list(in_tmp.iterdir()) == []


def test_keep_filtered_keeps_the_blurred_image(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    mock_bedrock_server.faults.add(FaultRule(finish_reason="CONTENT_FILTERED"))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x", "--seed", "4",
                  "--keep-filtered", "--json")
    assert result.exit_code == ExitCode.CONTENT_FILTERED
    kept = in_tmp / "sdxl-4-filtered.png"
    assert kept.is_file()
    summary = json.loads(result.stdout)
    assert summary["finish_reason"] == "CONTENT_FILTERED"
    assert summary["file"] == str(kept)


def test_generation_error(mock_bedrock_endpoint: str, mock_bedrock_server: MockServer,
                          in_tmp: Path) -> None:
    mock_bedrock_server.faults.add(FaultRule(finish_reason="ERROR"))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x")
    assert result.exit_code == ExitCode.GENERATION_FAILED
    assert "generation error" in result.stderr


def test_other_bedrock_errors_name_code_message_and_request_id(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    mock_bedrock_server.faults.add(
        FaultRule(error="ServiceQuotaExceededException", message="too many images today")
    )
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "x")
    assert result.exit_code == ExitCode.BEDROCK_ERROR
    request_id = mock_bedrock_server.journal.entries()[-1].request_id
    line = result.stderr.strip()
    assert "ServiceQuotaExceededException: too many images today" in line
    assert request_id in line
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(mock_bedrock_endpoint: str,
                                   mock_bedrock_server: MockServer, in_tmp: Path) -> None:
    mock_bedrock_server.faults.add(FaultRule(error="ServiceQuotaExceededException"))
    result = sdxl("--debug", "--endpoint", mock_bedrock_endpoint, "generate", "x")
    assert result.exit_code == ExitCode.BEDROCK_ERROR
    assert "Traceback" in result.stderr


# --- the installed command -----------------------------------------------------------------

SDXL = str(Path(sys.executable).with_name("sdxl"))


def test_installed_command_with_the_default_mock_and_model(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SDXL_ENDPOINT", "BEDROCK_IMAGE_ENDPOINT")}
    done = subprocess.run([SDXL, "generate", "a lighthouse", "--seed", "21"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # Stable Image Core, the live model, names its file after its family.
    image = tmp_path / "stable-image-core-21.png"
    assert f"wrote {image}" in done.stdout
    assert "placeholder" in done.stdout
    assert "model stability.stable-image-core-v1:1" in done.stderr
    assert "end of life" not in done.stderr
    assert read_parameters(image)["prompt"] == "a lighthouse"


def test_installed_command_with_a_server_url(mock_bedrock_endpoint: str,
                                             mock_bedrock_server: MockServer,
                                             tmp_path: Path) -> None:
    done = subprocess.run([SDXL, "--endpoint", mock_bedrock_endpoint, "--model-id",
                           SDXL_MODEL_ID, "generate", "x", "--style", "anime", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert Path(summary["file"]).is_file()
    assert last_body(mock_bedrock_server)["style_preset"] == "anime"
    assert summary["request_id"] == mock_bedrock_server.journal.entries()[-1].request_id


# --- validate and schema -------------------------------------------------------------------


def test_validate_says_valid_or_words_every_violation(in_tmp: Path) -> None:
    (in_tmp / "good.json").write_text('{"text_prompts": [{"text": "x"}], "steps": 10}')
    (in_tmp / "bad.json").write_text('{"text_prompts": [{"text": "x"}], "steps": 5, "x": 1}')
    good = sdxl("validate", "good.json")
    assert (good.exit_code, good.stdout) == (0, "valid\n")
    bad = sdxl("validate", "bad.json")
    assert bad.exit_code == ExitCode.REFUSED_LOCALLY
    assert "#/steps: 5 is not greater or equal to 10" in bad.stderr
    assert "#: extraneous key [x] is not permitted" in bad.stderr


def test_schema_prints_the_schema_files() -> None:
    assert json.loads(sdxl("schema", "request").stdout) == CONTRACT.request_schema
    assert json.loads(sdxl("schema", "response").stdout) == CONTRACT.response_schema


def test_installed_validate_and_schema_read_standard_input_and_print(tmp_path: Path) -> None:
    bad = subprocess.run([SDXL, "--model-id", SDXL_MODEL_ID, "validate", "-"], input='{"text_prompts": [], "cfg_scale": 40}',
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == ExitCode.REFUSED_LOCALLY
    assert bad.stderr.splitlines() == [
        "#/text_prompts: expected minimum item count: 1, found: 0",
        "#/cfg_scale: 40 is not less or equal to 35",
    ]
    good = subprocess.run([SDXL, "--model-id", SDXL_MODEL_ID, "validate", "-"], input='{"text_prompts": [{"text": "x"}]}',
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (good.returncode, good.stdout) == (0, "valid\n")
    schema = subprocess.run([SDXL, "--model-id", SDXL_MODEL_ID, "schema", "response"], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, check=True)
    assert json.loads(schema.stdout) == CONTRACT.response_schema


def test_retries_use_botocores_standard_mode_unless_the_user_chose_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sdxl_adapter.cli.endpoint import Target

    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    with Target().client(max_attempts=4) as client:
        assert client.boto_client.meta.config.retries["mode"] == "standard"
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    with Target().client(max_attempts=4) as client:
        assert client.boto_client.meta.config.retries["mode"] == "adaptive"
