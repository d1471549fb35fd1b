"""The ``sdxl`` command for every model of the catalogue: ``sdxl models``, ``--model-id``
(ids, profile ids, ARNs), each model's own ``generate`` options, output formats and the
embedded parameters, and SDXL's end of life (warning, refusal, exit code)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from bedrock_contract import check_request, default_catalogue
from mock_bedrock.doors.server import MockServer
from mock_bedrock.placeholder import read_parameters as read_placeholder
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.models import SDXL_MODEL_ID, contract_of
from sdxl_adapter.result import read_parameters
from tests.support.images import image_bytes

CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
SDXL_ID = "stability.stable-diffusion-xl-v1"
SDXL = str(Path(sys.executable).with_name("sdxl"))


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SDXL_ENDPOINT", raising=False)
    return tmp_path


def sdxl(*args: str, input: bytes | None = None) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in tests/cli/test_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], input=input, catch_exceptions=False)


# --- sdxl models -----------------------------------------------------------------------


def test_models_lists_every_id_with_lifecycle_replacement_and_what_it_takes() -> None:
    result = sdxl("models")
    assert result.exit_code == 0, result.output
    text = result.stdout
    for _, version in default_catalogue().versions():
        assert version.id in text
    sdxl_block = text[text.index(SDXL_ID + " "):].split("\n\n")[0]
    assert "lifecycle: eol (released 2023-07-26, legacy 2024-11-21, eol 2025-05-20)" in sdxl_block
    assert "replacement: stability.stable-image-core-v1:1" in sdxl_block
    sd35 = text[text.index(SD35 + " "):]
    assert "takes: text to image, image to image (image fields: image)" in sd35
    assert "output formats: jpeg, png, webp; streaming: no" in sd35


def test_models_json() -> None:
    entries = {e["id"]: e for e in json.loads(sdxl("models", "--json").stdout)}
    assert entries[SDXL_ID]["lifecycle"]["eol"] == "2025-05-20"
    assert entries[SDXL_ID]["replacement"] == CORE
    assert entries[SDXL_ID]["streaming"] is True
    assert entries[CORE]["takes"] == ["text to image"]
    assert entries[CORE]["output_formats"] == ["jpeg", "png"]
    assert entries[SD35]["takes"] == ["text to image", "image to image"]
    assert entries[ULTRA]["inference_profiles"] == [f"us.{ULTRA}"]
    # A retired id the schemas do not describe: refused by the service, and says so.
    assert entries["stability.stable-image-core-v1:0"]["described"] is False
    assert entries["stability.stable-image-core-v1:0"]["replacement"] == CORE


# --- --model-id ------------------------------------------------------------------------


def test_unknown_model_id_is_one_line_and_the_usage_code(in_tmp: Path) -> None:
    result = sdxl("--model-id", "stability.nope-v9", "generate", "x")
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unknown model id 'stability.nope-v9'" in result.stderr
    assert list(in_tmp.iterdir()) == []


def test_help_after_model_id_shows_that_models_own_options() -> None:
    core = sdxl("--model-id", CORE, "generate", "--help").stdout
    assert "--aspect-ratio [16:9|1:1|21:9|2:3|3:2|4:5|5:4|9:16|9:21]" in core
    assert "--output-format [jpeg|png]" in core
    assert "0<=x<=4294967295" in core
    assert "--negative-prompt" in core
    assert "--steps" not in core and "--size" not in core and "--image" not in core
    sd35 = sdxl("--model-id", SD35, "generate", "--help").stdout
    assert "--output-format [jpeg|png|webp]" in sd35
    assert "--image FILE" in sd35 or "--image PATH" in sd35
    assert "--strength FLOAT RANGE" in sd35 and "0<=x<=1" in sd35
    assert "0<=x<=4294967294" in sd35  # SD3.5's page states one less than Core's
    sdxl_help = sdxl("generate", "--help").stdout
    assert "--steps" in sdxl_help and "--aspect-ratio" not in sdxl_help


@pytest.mark.parametrize("model_id", [
    f"us.{ULTRA}",
    f"arn:aws:bedrock:us-west-2::foundation-model/{CORE}",
    f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SD35}",
])
def test_profile_ids_and_arns_pick_the_model(model_id: str, in_tmp: Path) -> None:
    result = sdxl("--model-id", model_id, "generate", "x", "--aspect-ratio", "9:16",
                  "--seed", "3", "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"prompt": "x", "aspect_ratio": "9:16", "seed": 3}


def test_validate_and_schema_take_the_model_id(in_tmp: Path) -> None:
    (in_tmp / "core.json").write_text('{"prompt": "x", "aspect_ratio": "16:9"}')
    assert sdxl("--model-id", CORE, "validate", "core.json").stdout == "valid\n"
    refused = sdxl("validate", "core.json")  # SDXL's contract
    assert refused.exit_code == ExitCode.REFUSED_LOCALLY
    assert "required key [text_prompts] not found" in refused.stderr
    printed = json.loads(sdxl("--model-id", SD35, "schema", "request").stdout)
    assert printed == contract_of(SD35).request_schema


# --- generate, through the in-process mock ---------------------------------------------


def test_core_lighthouse_as_jpeg_with_its_parameters(in_tmp: Path) -> None:
    result = sdxl("--model-id", CORE, "generate", "a lighthouse", "--aspect-ratio", "16:9",
                  "--output-format", "jpeg", "-o", "x.jpg", "--seed", "12")
    assert result.exit_code == 0, result.output
    path = in_tmp / "x.jpg"
    with Image.open(path) as image:
        assert (image.format, image.size) == ("JPEG", (1344, 768))
    assert read_parameters(path) == {
        "prompt": "a lighthouse", "seed": "12", "size": "1344x768", "aspect_ratio": "16:9",
        "output_format": "jpeg", "model_id": CORE,
    }
    assert read_placeholder(path.read_bytes())["seed"] == 12  # the mock's own comment kept
    assert "seed 12, finish reason null (success)" in result.stdout


def test_the_output_name_sets_the_format_when_none_is_given(in_tmp: Path) -> None:
    result = sdxl("--model-id", SD35, "generate", "x", "-o", "out.webp", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output_format"] == "webp"
    with Image.open(in_tmp / "out.webp") as image:
        assert (image.format, image.size) == ("WEBP", (1024, 1024))
    assert read_parameters(in_tmp / "out.webp")["output_format"] == "webp"


def test_default_name_and_extension_follow_the_family_and_format(in_tmp: Path) -> None:
    result = sdxl("--model-id", ULTRA, "generate", "x", "--seed", "5", "--output-format",
                  "jpeg")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "stable-image-ultra-5.jpg").is_file()


@pytest.mark.parametrize(("args", "text"), [
    (["--model-id", CORE, "generate", "x", "--output-format", "png", "-o", "x.jpg"],
     "-o x.jpg names a jpeg file, but --output-format is png"),
    (["--model-id", CORE, "generate", "x", "-o", "x.webp"],
     "-o x.webp names a webp file, but Stable Image Core makes jpeg, png only"),
    (["generate", "x", "-o", "x.jpg"],
     "-o x.jpg names a jpeg file, but Stable Diffusion XL 1.0 makes png only"),
])
def test_a_name_that_disagrees_with_the_format_is_refused(args: list[str], text: str,
                                                          in_tmp: Path) -> None:
    result = sdxl(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == f"Error: {text}: name it *.png, or make them agree"
    assert list(in_tmp.iterdir()) == []


def test_sd35_image_to_image_from_a_file(in_tmp: Path) -> None:
    (in_tmp / "photo.png").write_bytes(image_bytes((640, 448)))
    result = sdxl("--model-id", SD35, "generate", "in ink", "--image", "photo.png",
                  "--strength", "0.4", "-o", "ink.png")
    assert result.exit_code == 0, result.output
    with Image.open(in_tmp / "ink.png") as image:
        assert image.size == (1216, 832)  # about a megapixel in the photo's shape


def test_a_schema_rule_of_the_model_is_refused_locally(in_tmp: Path) -> None:
    (in_tmp / "photo.png").write_bytes(image_bytes((640, 448)))
    result = sdxl("--model-id", SD35, "generate", "x", "--image", "photo.png")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert "#: required key [strength] not found" in result.stderr


# --- Stability outcomes, through a mock server ------------------------------------------


@pytest.mark.parametrize(("with_image", "kept"), [(True, True), (False, False)])
def test_filtered_stability_answer(with_image: bool, kept: bool, mock_bedrock_endpoint: str,
                                   mock_bedrock_server: MockServer, in_tmp: Path) -> None:
    mock_bedrock_server.faults.add(
        FaultRule(finish_reason="Filter reason: prompt", with_image=with_image))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "--model-id", CORE, "generate", "x",
                  "--seed", "4", "--output-format", "jpeg", "--keep-filtered")
    assert result.exit_code == ExitCode.CONTENT_FILTERED
    assert (in_tmp / "stable-image-core-4-filtered.jpg").is_file() is kept
    if not kept:
        assert "Filter reason: prompt" in result.stderr
        assert "it came without an image" in result.stderr


def test_inference_error(mock_bedrock_endpoint: str, mock_bedrock_server: MockServer,
                         in_tmp: Path) -> None:
    mock_bedrock_server.faults.add(FaultRule(finish_reason="Inference error", with_image=False))
    result = sdxl("--endpoint", mock_bedrock_endpoint, "--model-id", ULTRA, "generate", "x")
    assert result.exit_code == ExitCode.GENERATION_FAILED
    assert "finish reason Inference error" in result.stderr


# --- end of life --------------------------------------------------------------------------

FAKE_AWS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_REGION": "us-east-1"}


@pytest.fixture
def today() -> Any:
    with MockServer(as_of=dt.date.today()) as server:
        yield server


def test_eol_model_on_aws_warns_then_names_the_replacement_and_exits_14(
    today: MockServer, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", today.endpoint_url)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "generate", "a lighthouse")
    assert result.exit_code == ExitCode.MODEL_END_OF_LIFE == 14
    _, warning, error = result.stderr.strip().splitlines()
    assert warning == (
        "warning: stability.stable-diffusion-xl-v1 reached its end of life on 2025-05-20 and "
        "Bedrock refuses it; move to stability.stable-image-core-v1:1 "
        "(`sdxl migrate BODY --to stability.stable-image-core-v1:1`)"
    )
    assert error.startswith("Error: stability.stable-diffusion-xl-v1 has reached its end of "
                            "life on 2025-05-20: Bedrock refused it (ResourceNotFoundException")
    assert "`sdxl migrate BODY --to stability.stable-image-core-v1:1`" in error
    assert list(in_tmp.iterdir()) == []


def test_a_live_model_on_aws_gets_no_warning(today: MockServer, in_tmp: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", today.endpoint_url)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "--model-id", CORE, "generate", "x", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_installed_command_against_the_mock_as_of_today(today: MockServer,
                                                        tmp_path: Path) -> None:
    done = subprocess.run([SDXL, "--endpoint", today.endpoint_url, "--model-id", SDXL_MODEL_ID,
                           "generate", "x"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.MODEL_END_OF_LIFE
    assert done.stderr.strip().splitlines()[-1].startswith(
        "Error: stability.stable-diffusion-xl-v1 has reached its end of life")
    assert "Traceback" not in done.stderr


# --- migrate ------------------------------------------------------------------------------

SDXL_BODY = {
    "text_prompts": [{"text": "a fox"}, {"text": "at dusk", "weight": 0.7},
                     {"text": "blur", "weight": -1}],
    "width": 896, "height": 1152, "cfg_scale": 9, "steps": 40, "sampler": "K_HEUN",
    "clip_guidance_preset": "FAST_BLUE", "style_preset": "anime", "seed": 77,
}


@pytest.mark.parametrize("to", [CORE, ULTRA, SD35])
def test_migrate_prints_a_valid_body_and_lists_what_was_dropped(to: str, in_tmp: Path) -> None:
    (in_tmp / "body.json").write_text(json.dumps(SDXL_BODY))
    result = sdxl("migrate", "body.json", "--to", to)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    check_request(contract_of(to), body)
    assert body == {"prompt": "a fox at dusk", "negative_prompt": "blur", "aspect_ratio": "4:5",
                    "seed": 77}
    dropped = [line.split(":")[0] for line in result.stderr.splitlines()
               if line.startswith("dropped ")]
    assert dropped == ["dropped text_prompts/1/weight", "dropped cfg_scale", "dropped steps",
                       "dropped sampler", "dropped clip_guidance_preset", "dropped style_preset"]
    assert "changed width, height: width 896 x height 1152 became aspect_ratio 4:5" in result.stderr


def test_migrate_reads_standard_input_and_refuses_a_bad_source(in_tmp: Path) -> None:
    good = sdxl("migrate", "--to", CORE, input=b'{"text_prompts": [{"text": "x"}]}')
    assert json.loads(good.stdout) == {"prompt": "x"}
    bad = sdxl("migrate", "--to", CORE, input=b'{"text_prompts": [], "steps": 5}')
    assert bad.exit_code == ExitCode.REFUSED_LOCALLY
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "#/steps: 5 is not greater or equal to 10" in bad.stderr
    unknown = sdxl("migrate", "--to", "stability.nope", input=b"{}")
    assert unknown.exit_code == ExitCode.USAGE


def test_batch_migrate_to_sends_each_line_to_the_target(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    lines = ['"a fox"', json.dumps({"prompt": "a lighthouse", "size": "1344x768", "steps": 40,
                                    "seed": 3, "negative": ["fog"]})]
    (in_tmp / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    result = sdxl("--endpoint", mock_bedrock_endpoint, "batch", "jobs.jsonl", "--out-dir",
                  "out", "--migrate-to", CORE)
    assert result.exit_code == 0, result.output
    assert "jobs.jsonl:2: dropped steps:" in result.stderr
    bodies = sorted((e.body for e in mock_bedrock_server.journal.entries()),
                    key=lambda b: b["prompt"])
    assert bodies == [{"prompt": "a fox"}, {
        "prompt": "a lighthouse", "negative_prompt": "fog", "aspect_ratio": "16:9", "seed": 3,
    }]
    assert {e.model_id for e in mock_bedrock_server.journal.entries()} == {CORE}
    with Image.open(in_tmp / "out" / "0002.png") as image:
        assert image.size == (1344, 768)


def test_batch_lines_for_another_model_take_its_keys(in_tmp: Path) -> None:
    (in_tmp / "jobs.jsonl").write_text(
        json.dumps({"prompt": "x", "aspect_ratio": "21:9", "output_format": "jpeg"}) + "\n")
    result = sdxl("--model-id", CORE, "batch", "jobs.jsonl", "--out-dir", "out")
    assert result.exit_code == 0, result.output
    with Image.open(in_tmp / "out" / "0001.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (1536, 640))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_migrated_image_to_image_keeps_the_input_weight(in_tmp: Path) -> None:
    init = image_bytes((1024, 1024))
    body = {"text_prompts": [{"text": "ink"}], "init_image": b64(init), "image_strength": 0.3}
    result = sdxl("migrate", "--to", SD35, input=json.dumps(body).encode())
    migrated = json.loads(result.stdout)
    assert migrated["strength"] == 0.7 and base64.b64decode(migrated["image"]) == init
    with Image.open(io.BytesIO(base64.b64decode(migrated["image"]))) as image:
        assert image.size == (1024, 1024)


def test_a_canvas_prompt_beside_a_task_goes_into_that_tasks_parameters(tmp_path: Path) -> None:
    (tmp_path / "house.png").write_bytes(image_bytes((640, 480)))
    result = sdxl("--model-id", "amazon.nova-canvas-v1:0", "--as-of", "2026-09-29", "generate",
                  "a red door", "-n", "blur", "--task-type", "INPAINTING",
                  "--in-painting-params-image", str(tmp_path / "house.png"),
                  "--in-painting-params-mask-prompt", "the door",
                  "-o", str(tmp_path / "door.png"))
    assert result.exit_code == 0, result.output  # old: "extraneous key [textToImageParams]"
    assert (tmp_path / "door.png").is_file()


def test_every_image_a_call_returned_is_written_and_named_by_the_asked_seed(
        tmp_path: Path) -> None:
    canvas = ("--model-id", "amazon.nova-canvas-v1:0", "--as-of", "2026-09-29")
    result = sdxl(*canvas, "generate", "a lighthouse", "--number-of-images", "3",
                  "--seed", "5", "-o", f"{tmp_path}/")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "nova-canvas-5-2.png", "nova-canvas-5-3.png", "nova-canvas-5.png"]  # old: only one
    unseeded = sdxl(*canvas, "generate", "a harbour", "--json", "--number-of-images", "2",
                    "-o", str(tmp_path / "harbour.png"))
    summary = json.loads(unseeded.stdout)
    assert (summary["file"], summary["other_files"]) == (
        str(tmp_path / "harbour.png"), [str(tmp_path / "harbour-2.png")])
    batch = tmp_path / "lines.jsonl"
    batch.write_text('{"prompt": "a fox", "number_of_images": 2}\n', encoding="utf-8")
    ran = sdxl(*canvas, "batch", str(batch), "--out-dir", str(tmp_path / "out"))
    assert ran.exit_code == 0, ran.output
    (record,) = [json.loads(line) for line in
                 (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert (record["file"], record["other_files"]) == ("0001.png", ["0001-2.png"])
    assert (tmp_path / "out" / "0001-2.png").is_file()
