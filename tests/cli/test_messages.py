"""What the command line prints and where it writes: output folders, what is printed once,
placeholders from a server, validate's wording, and an unreachable local endpoint. (Batch
lines: tests/cli/batch/test_lines.py.)"""

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

SDXL = str(Path(sys.executable).with_name("sdxl"))


def sdxl(*args: str, input: str | None = None) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in tests/cli/test_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], input=input, catch_exceptions=False)


# --- -o ------------------------------------------------------------------------------------


def test_output_ending_in_a_separator_makes_the_folder(in_tmp: Path) -> None:
    result = sdxl("generate", "a fox", "--seed", "3", "-o", "new/dir/")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "new" / "dir").is_dir()
    assert (in_tmp / "new" / "dir" / "sdxl-3.png").is_file()


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
