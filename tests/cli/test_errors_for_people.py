"""The command line's errors for a person: a file that is not JSON says where (exit 4),
several violations one a line (Bedrock's one-line message under --json), an SDXL body sent
to a live model points to `sdxl migrate`, a mistyped model id gets a "did you mean", and no
seed is printed for a model that takes none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from tests.support.images import image_bytes

CORE = "stability.stable-image-core-v1:1"
REMOVE_BACKGROUND = "us.stability.stable-image-remove-background-v1:0"


def sdxl(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def trailing_comma(tmp_path: Path) -> Path:
    body = tmp_path / "body.json"
    body.write_text('{\n  "prompt": "a fox",\n}\n')
    return body


def test_generate_says_where_a_body_file_stops_being_json(trailing_comma: Path) -> None:
    result = sdxl("--model-id", CORE, "generate", "--body", str(trailing_comma),
                  "-o", str(trailing_comma.with_suffix(".png")))
    assert result.exit_code == ExitCode.INPUT_UNREADABLE
    assert result.stderr == (f"Error: {trailing_comma} is not JSON: line 3, column 1: "
                             "Expecting property name enclosed in double quotes\n")
    assert not trailing_comma.with_suffix(".png").exists()


def test_validate_says_where_too_and_json_keeps_bedrocks_message(trailing_comma: Path) -> None:
    result = sdxl("--model-id", CORE, "validate", str(trailing_comma))
    assert result.exit_code == ExitCode.INPUT_UNREADABLE
    assert "is not JSON: line 3, column 1" in result.stderr
    as_json = sdxl("--model-id", CORE, "validate", "--json", "-",
                   input=trailing_comma.read_bytes())
    assert as_json.exit_code == ExitCode.INPUT_UNREADABLE
    assert json.loads(as_json.stdout) == {
        "valid": False,
        "message": "Malformed input request, please reformat your input and try again.",
        "error": "standard input is not JSON: line 3, column 1: Expecting property name "
                 "enclosed in double quotes"}


def test_several_violations_are_one_a_line(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"prompt": 5, "seed": -3, "aspect_ratio": "9:9"}))
    result = sdxl("--model-id", CORE, "generate", "--body", str(body))
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert result.stderr.splitlines() == [
        "Error: refused locally, nothing was sent; 3 violations:",
        "  #/seed: -3 is not greater or equal to 0",
        "  #/prompt: expected type: String, found: Integer",
        "  #/aspect_ratio: 9:9 is not a valid enum value",
    ]
    as_json = sdxl("--model-id", CORE, "generate", "--json", "--body", str(body))
    assert as_json.exit_code == ExitCode.REFUSED_LOCALLY
    assert json.loads(as_json.stdout) == {"refused": True, "message": (
        "Malformed input request: #/seed: -3 is not greater or equal to 0#/prompt: expected "
        "type: String, found: Integer#/aspect_ratio: 9:9 is not a valid enum value, please "
        "reformat your input and try again.")}


def test_an_sdxl_body_sent_to_a_live_model_points_to_migrate(tmp_path: Path) -> None:
    body = tmp_path / "old.json"
    body.write_text(json.dumps({"text_prompts": [{"text": "a fox"}], "cfg_scale": 7}))
    hint = (f"{body} is a Stable Diffusion XL 1.0 body: `sdxl migrate {body} --to {CORE}` "
            "rewrites it for Stable Image Core")
    generated = sdxl("--model-id", CORE, "generate", "--body", str(body))
    assert generated.exit_code == ExitCode.REFUSED_LOCALLY
    assert generated.stderr.splitlines()[-1] == hint
    validated = sdxl("--model-id", CORE, "validate", str(body))
    assert validated.exit_code == ExitCode.REFUSED_LOCALLY
    assert validated.stderr.splitlines() == ["#: required key [prompt] not found", hint]
    # The hint's command does what it says.
    migrated = sdxl("migrate", str(body), "--to", CORE)
    assert migrated.exit_code == 0, migrated.output
    moved = tmp_path / "core.json"
    moved.write_text(migrated.stdout)
    assert sdxl("--model-id", CORE, "validate", str(moved)).stdout == "valid\n"


def test_a_mistyped_model_id_gets_a_did_you_mean() -> None:
    result = sdxl("--model-id", "stability.stable-image-cor-v1:1", "models")
    assert result.exit_code == ExitCode.USAGE
    assert ("unknown model id 'stability.stable-image-cor-v1:1'; did you mean "
            f"'{CORE}'? (see `sdxl models`)") in result.stderr


def test_no_seed_is_printed_for_a_model_that_takes_none(tmp_path: Path) -> None:
    picture = tmp_path / "in.png"
    picture.write_bytes(image_bytes((512, 512)))
    result = sdxl("--model-id", REMOVE_BACKGROUND, "generate", "--image", str(picture),
                  "-o", str(tmp_path / "out.png"))
    assert result.exit_code == 0, result.output
    assert "finish reason null (success)" in result.stdout
    assert not any(line.startswith("seed") for line in result.stdout.splitlines())
    seeded = sdxl("--model-id", CORE, "generate", "a fox", "--seed", "5",
                  "-o", str(tmp_path / "core.png"))
    assert "seed 5, finish reason null (success)" in seeded.stdout


def test_no_seed_line_for_an_answer_that_carries_none(tmp_path: Path) -> None:
    # Nova Canvas takes a seed, but its answers carry none: nothing to print.
    result = sdxl("--model-id", "amazon.nova-canvas-v1:0", "--as-of", "2026-09-01",
                  "generate", "a fox", "-o", str(tmp_path / "canvas.png"))
    assert result.exit_code == 0, result.output
    assert "finish reason null (success)" in result.stdout
    assert "None" not in result.stdout
