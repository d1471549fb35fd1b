"""The command line's rough edges (issue 13): output folders, batch from standard input and
its key spellings, what is printed once, placeholders from a server, validate's wording,
and an unreachable local endpoint."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mock_bedrock.doors.server import MockServer
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.models import SDXL_MODEL_ID
from tests.images import image_bytes

SDXL = str(Path(sys.executable).with_name("sdxl"))


def sdxl(*args: str, input: str | None = None) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in test_cli_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], input=input, catch_exceptions=False)


def dry_run_bodies(result: Result) -> list[dict[str, object]]:
    return [json.loads(line)["body"] for line in result.stdout.splitlines()]


# --- -o ------------------------------------------------------------------------------------


def test_output_ending_in_a_separator_makes_the_folder(in_tmp: Path) -> None:
    result = sdxl("generate", "a fox", "--seed", "3", "-o", "new/dir/")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "new" / "dir").is_dir()
    assert (in_tmp / "new" / "dir" / "sdxl-3.png").is_file()


# --- sdxl batch ----------------------------------------------------------------------------


def test_batch_dash_reads_standard_input_relative_to_the_current_folder(in_tmp: Path) -> None:
    (in_tmp / "photo.png").write_bytes(image_bytes((1024, 1024)))
    lines = '"a fox"\n{"prompt": "a red door", "init_image": "photo.png"}\n'
    result = sdxl("batch", "-", input=lines)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (in_tmp / "out" / "stdin").glob("*.png")) == [
        "0001.png", "0002.png"]


def test_batch_keys_accept_the_body_and_the_option_names(in_tmp: Path) -> None:
    lines = [
        {"prompt": "a", "style": "anime", "cfg_scale": 9},
        {"prompt": "b", "style_preset": "anime", "cfg-scale": 9},
        {"prompt": "c", "style-preset": "anime", "clip_guidance_preset": "FAST_BLUE"},
    ]
    result = sdxl("batch", "--dry-run", "-", input="".join(json.dumps(x) + "\n" for x in lines))
    assert result.exit_code == 0, result.output
    bodies = dry_run_bodies(result)
    assert [b["style_preset"] for b in bodies] == ["anime"] * 3
    assert [b.get("cfg_scale") for b in bodies] == [9.0, 9.0, None]
    assert bodies[2]["clip_guidance_preset"] == "FAST_BLUE"


def test_an_unknown_batch_key_says_what_it_may_mean(in_tmp: Path) -> None:
    result = sdxl("batch", "--dry-run", "-", input='{"prompt": "a", "stlye": "anime"}\n')
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    (bad,) = [line for line in result.stderr.splitlines() if "bad line" in line]
    assert "unknown key stlye (did you mean style?)" in bad


def test_one_key_spelled_twice_on_a_line_is_a_bad_line(in_tmp: Path) -> None:
    result = sdxl("batch", "--dry-run", "-",
                  input='{"prompt": "a", "style": "anime", "style_preset": "anime"}\n')
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert "style and style_preset are the same key" in result.stderr


# --- what is printed -----------------------------------------------------------------------


def test_a_server_url_is_printed_once(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "a fox")
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("endpoint: ")]
    assert line.count(mock_bedrock_endpoint) == 1, line


def test_the_placeholder_note_is_printed_once_in_process(in_tmp: Path) -> None:
    result = sdxl("generate", "a fox")
    assert result.exit_code == 0, result.output
    assert result.output.count("placeholder images") == 1, result.output


def test_json_from_a_server_says_a_placeholder_is_one(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    result = sdxl("--endpoint", mock_bedrock_endpoint, "generate", "a fox", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["placeholder"] is True


# --- validate ------------------------------------------------------------------------------


def test_validate_prints_a_violation_a_line_and_bedrocks_message_as_json(in_tmp: Path) -> None:
    (in_tmp / "bad.json").write_text('{"text_prompts": [], "cfg_scale": 40}')
    people = subprocess.run([SDXL, "--model-id", SDXL_MODEL_ID, "validate", "bad.json"], capture_output=True, text=True,
                            timeout=60)
    assert people.returncode == ExitCode.REFUSED_LOCALLY
    assert people.stderr.splitlines() == [
        "#/text_prompts: expected minimum item count: 1, found: 0",
        "#/cfg_scale: 40 is not less or equal to 35",
    ]
    machine = subprocess.run([SDXL, "--model-id", SDXL_MODEL_ID, "validate", "--json",
                              "bad.json"], capture_output=True,
                             text=True, timeout=60)
    assert machine.returncode == ExitCode.REFUSED_LOCALLY
    assert json.loads(machine.stdout) == {"valid": False, "message": (
        "Malformed input request: #/text_prompts: expected minimum item count: 1, found: 0"
        "#/cfg_scale: 40 is not less or equal to 35, please reformat your input and try again."
    )}


# --- an unreachable endpoint ---------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_unreachable_local_url_suggests_starting_the_mock(host: str, in_tmp: Path) -> None:
    url = f"http://{host}:{_closed_port()}"
    result = sdxl("--endpoint", url, "generate", "a fox")
    assert result.exit_code == ExitCode.ENDPOINT_UNREACHABLE
    (error,) = [x for x in result.stderr.splitlines() if x.startswith("Error: ")]
    assert "mock-bedrock serve" in error
    assert "region" not in error


def test_a_dry_run_with_bad_lines_exits_as_the_real_run_does(in_tmp: Path) -> None:
    batch = in_tmp / "lines.jsonl"
    batch.write_text('"a lighthouse"\n{"prompt": "x", "steps": 3}\n', encoding="utf-8")
    dry = sdxl("batch", str(batch), "--dry-run")
    real = sdxl("batch", str(batch), "--out-dir", str(in_tmp / "out"))
    assert dry.exit_code == real.exit_code == ExitCode.BATCH_INCOMPLETE
    assert "1 bad" in dry.stderr
    assert len(dry_run_bodies(dry)) == 1  # the good line would still be sent
