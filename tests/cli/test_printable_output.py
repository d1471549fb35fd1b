"""Text from outside (a request's path or model id, a rule's name, a file's contents or name, a
body, a service's message) reaches a log line or the terminal with its non-printable
characters shown escaped: it cannot forge a log line, clear the screen or colour it, and
``--json`` output stays exact JSON."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bedrock_contract.printable import printable
from mock_bedrock.cli import main as mock_bedrock_main
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main as sdxl_main
from sdxl_adapter.cli.errors import ExitCode

# Clears the screen, homes the cursor and writes "valid" in green: what a hostile body's
# text would show on a terminal if printed raw.
SPOOF = "\x1b[2J\x1b[H\x1b[32mvalid\x1b[0m"
SHOWN = "\\x1b[2J\\x1b[H\\x1b[32mvalid\\x1b[0m"
FORGED = "2026-01-01T00:00:00.000 InvokeModel forged 200 - - 0000 1.0ms"


def test_printable_escapes_what_is_not_printable_and_leaves_the_rest() -> None:
    assert printable("a lighthouse, é 漢字 😀 \\x1b") == "a lighthouse, é 漢字 😀 \\x1b"
    assert printable(SPOOF) == SHOWN
    assert printable("one\ntwo\rthree\tfour") == "one\\ntwo\\rthree\\tfour"
    assert printable("\u2028\u202e\x85\x00\ud800\U000e0001") == \
        "\\u2028\\u202e\\x85\\x00\\ud800\\U000e0001"


def _raw_post(server: MockServer, path: str) -> int:
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", path, body=b"{}",
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_request_cannot_forge_or_colour_a_log_line(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    with MockServer(log_requests=True) as server:
        server.faults.add(FaultRule(prompt="storm", error="ThrottlingException",
                                    name=f"rule {SPOOF}"))
        assert _raw_post(server, "/nowhere%0A" + FORGED.replace(" ", "%20")) == 404
        assert _raw_post(server, "/model/a%1B%5B2Jb/invoke") == 400
        status = _raw_post(server, "/model/stability.stable-diffusion-xl-v1/invoke")
        assert status == 400  # no prompts: refused before the rules
        body = json.dumps({"text_prompts": [{"text": "storm"}]}).encode()
        host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", "/model/stability.stable-diffusion-xl-v1/invoke", body=body,
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 429
        connection.close()
    log = capsys.readouterr().err
    lines = log.splitlines()  # each written when its answer is sent: in any order
    assert len(lines) == 4, log  # one line a call, none forged
    assert "\x1b" not in log
    assert sum(line.split(" ", 1)[1].startswith("POST /nowhere\\n2026-01-01T00:00:00.000 ")
               for line in lines) == 1
    assert sum(" a\\x1b[2Jb 400 ValidationException " in line for line in lines) == 1
    # A name with spaces is quoted as JSON, which escapes control characters its own way.
    assert sum('"rule \\u001b[2J\\u001b[H\\u001b[32mvalid\\u001b[0m"' in line
               for line in lines) == 1


def test_validate_shows_a_bodys_escape_sequences_escaped(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"text_prompts": [{"text": "x"}], "style_preset": SPOOF}))
    sdxl = ["--model-id", "stability.stable-diffusion-xl-v1"]  # an SDXL body
    shown = CliRunner().invoke(sdxl_main, [*sdxl, "validate", str(body)])
    assert shown.exit_code == ExitCode.REFUSED_LOCALLY
    assert "\x1b" not in shown.output
    assert SHOWN in shown.stderr
    as_json = CliRunner().invoke(sdxl_main, [*sdxl, "validate", "--json", str(body)])
    assert as_json.exit_code == ExitCode.REFUSED_LOCALLY
    answer = json.loads(as_json.stdout)  # exact JSON, the value as the body had it
    assert answer["valid"] is False and SPOOF in answer["message"]
    assert "\x1b" not in as_json.stdout


def test_a_services_message_is_shown_escaped_on_one_line(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    mock_bedrock_server.faults.add(FaultRule(error="ValidationException",
                                             message=f"bad\n{SPOOF}"))
    result = CliRunner().invoke(sdxl_main, ["--endpoint", mock_bedrock_endpoint, "generate",
                                            "a lighthouse", "-o", "out.png"])
    assert result.exit_code == ExitCode.BEDROCK_ERROR
    assert "\x1b" not in result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert f"ValidationException: bad\\n{SHOWN}" in error


def test_batch_paths_lines_and_failures_are_shown_escaped(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path
) -> None:
    mock_bedrock_server.faults.add(FaultRule(prompt="refused", error="ValidationException",
                                             message=SPOOF))
    batch = in_tmp / f"b{SPOOF}.jsonl"
    batch.write_text("\n".join([json.dumps({"prompt": "x", SPOOF: 1}),
                                json.dumps("refused"), json.dumps("fine")]) + "\n")
    result = CliRunner().invoke(sdxl_main, ["--endpoint", mock_bedrock_endpoint, "batch",
                                            str(batch), "--out-dir", "out"])
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert "\x1b" not in result.output
    shown_batch = printable(str(batch))
    assert f"{shown_batch}:1: bad line, skipped: unknown key {SHOWN}" in result.stderr
    assert f"{shown_batch}:2: failed: Bedrock refused: ValidationException: {SHOWN}" \
        in result.stderr


def test_a_faults_files_words_are_shown_escaped(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"prompt_regex": f"({SPOOF}", "error": "ThrottlingException"}]))
    result = CliRunner().invoke(mock_bedrock_main, ["serve", "--port", "0", "--faults",
                                                    str(faults)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "missing ]: [2J\\x1b[H\\x1b[32mvalid\\x1b[0m" in result.output  # RE2's words
