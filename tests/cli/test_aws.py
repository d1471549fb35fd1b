"""``sdxl --endpoint aws``: the AWS credential chain and region, against an HTTP-level stand-in
(a mock server reached through AWS_ENDPOINT_URL_BEDROCK_RUNTIME), and the errors a person
can act on: missing or rejected credentials, no region, unreachable endpoint, access denied.
Nothing here reaches anything but 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode

SDXL = str(Path(sys.executable).with_name("sdxl"))
# Every variable through which the machine's own AWS identity could reach a test.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
    "SDXL_ENDPOINT", "BEDROCK_IMAGE_ENDPOINT",
)
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "fake-secret"}
CORE = "stability.stable-image-core-v1:1"  # the model sdxl calls when told none
SDXL_ID = "stability.stable-diffusion-xl-v1"


@pytest.fixture
def server(mock_bedrock_server: MockServer) -> Iterator[MockServer]:
    mock_bedrock_server.faults.clear()
    mock_bedrock_server.journal.clear()
    yield mock_bedrock_server
    mock_bedrock_server.faults.clear()
    mock_bedrock_server.journal.clear()


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No AWS identity at all: empty config and credentials files, no instance metadata."""
    home = tmp_path / "aws"
    home.mkdir()
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def stand_in(server: MockServer, aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> MockServer:
    """The server stands in for Bedrock in `aws` mode, as AWS SDKs allow by environment."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint_url)
    return server


def sdxl(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_aws_mode_uses_the_credential_chain_and_region(
    stand_in: MockServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "generate", "a lighthouse", "--seed", "2")
    assert result.exit_code == 0, result.output
    assert f"endpoint: aws {stand_in.endpoint_url} (region eu-west-1)" in result.stderr
    assert "placeholder" in result.stdout  # the stand-in's image carries the mock's parameters
    assert (tmp_path / "stable-image-core-2.png").is_file()
    assert len(stand_in.journal) == 1


def test_no_model_id_sends_stable_image_cores_body(
    stand_in: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == 0, result.output
    (entry,) = stand_in.journal.entries()
    assert entry.path == f"/model/{CORE}/invoke"
    assert entry.body == {"prompt": "x"}
    # A live model: no end-of-life line on the way out or back.
    assert "end of life" not in result.stderr


def test_sdxl_is_one_model_id_away_and_warned_of_before_sending(
    stand_in: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "--model-id", SDXL_ID, "generate", "x")
    assert result.exit_code == 0, result.output
    (entry,) = stand_in.journal.entries()
    assert entry.path == f"/model/{SDXL_ID}/invoke"
    assert entry.body == {"text_prompts": [{"text": "x"}]}
    assert (f"warning: {SDXL_ID} reached its end of life on 2025-05-20 and Bedrock refuses "
            f"it; move to {CORE}") in result.stderr


def test_profile_option_and_variable_pick_region_and_keys(
    stand_in: MockServer, aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (aws_home / "config").write_text("[profile art]\nregion = ap-southeast-2\n")
    (aws_home / "credentials").write_text(
        "[art]\naws_access_key_id = AKIDART\naws_secret_access_key = s\n"
    )
    by_option = sdxl("--endpoint", "aws", "--profile", "art", "generate", "x")
    assert by_option.exit_code == 0, by_option.output
    assert "(region ap-southeast-2)" in by_option.stderr
    monkeypatch.setenv("AWS_PROFILE", "art")
    by_variable = sdxl("--endpoint", "aws", "--region", "us-west-2", "generate", "x")
    assert by_variable.exit_code == 0, by_variable.output
    assert "(region us-west-2)" in by_variable.stderr  # --region wins over the profile's


@pytest.mark.parametrize("variable", ["BEDROCK_IMAGE_ENDPOINT", "SDXL_ENDPOINT"])
def test_endpoint_from_the_environment_variable(
    server: MockServer, aws_home: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, server.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("generate", "x")
    assert result.exit_code == 0, result.output
    assert f"endpoint: {server.endpoint_url}" in result.stderr
    assert len(server.journal) == 1


def test_the_neutral_endpoint_variable_wins_over_the_old_one(
    server: MockServer, aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_IMAGE_ENDPOINT", server.endpoint_url)
    monkeypatch.setenv("SDXL_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing there
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = sdxl("generate", "x")
    assert result.exit_code == 0, result.output
    assert len(server.journal) == 1


def one_plain_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output
    # The endpoint line, then the error (the default model is live: no end-of-life warning).
    assert len(lines) == 2, lines
    assert lines[0].startswith("endpoint: ")
    return lines[-1]


def test_missing_credentials(stand_in: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == ExitCode.NO_CREDENTIALS
    assert "no AWS credentials found" in one_plain_line(result)
    assert len(stand_in.journal) == 0


def test_rejected_credentials(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with MockServer(credentials={"AKIDGOOD": "good-secret"}) as strict:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", strict.endpoint_url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        for name, value in FAKE_KEYS.items():
            monkeypatch.setenv(name, value)
        result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == ExitCode.NO_CREDENTIALS
    line = one_plain_line(result)
    assert "UnrecognizedClientException" in line
    assert "did not accept the credentials" in line


def test_access_denied_for_the_model(stand_in: MockServer,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    stand_in.faults.add(FaultRule(
        error="AccessDeniedException",
        message="You don't have access to the model with the specified model ID.",
    ))
    result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == ExitCode.ACCESS_DENIED
    line = one_plain_line(result)
    assert "AccessDeniedException: You don't have access to the model" in line
    assert "Model access" in line
    assert stand_in.journal.entries()[-1].request_id in line


def test_no_region(stand_in: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == ExitCode.AWS_CONFIG
    assert result.stderr.strip() == "Error: no AWS region set: pass --region or set AWS_REGION"


def test_unknown_profile(stand_in: MockServer) -> None:
    result = sdxl("--endpoint", "aws", "--profile", "nobody", "generate", "x")
    assert result.exit_code == ExitCode.AWS_CONFIG
    assert "AWS profile not found: nobody" in result.stderr
    assert "Traceback" not in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_unreachable_endpoint(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A closed port on this machine stands for a region without Bedrock Runtime: botocore
    # fails to connect either way.
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    result = sdxl("--endpoint", "aws", "generate", "x")
    assert result.exit_code == ExitCode.ENDPOINT_UNREACHABLE
    assert "cannot reach Bedrock Runtime" in one_plain_line(result)


def test_bad_endpoint_value_is_a_usage_error() -> None:
    result = sdxl("--endpoint", "bedrock.example", "generate", "x")
    assert result.exit_code == ExitCode.USAGE
    assert "mock, aws or an http(s):// URL" in result.stderr


# --- the installed command, as a subprocess ------------------------------------------------


def clean_env(aws_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    return {**env, **extra}


def test_installed_command_in_aws_mode(stand_in: MockServer, aws_home: Path,
                                       tmp_path: Path) -> None:
    env = clean_env(aws_home, AWS_REGION="us-east-1",
                    AWS_ENDPOINT_URL_BEDROCK_RUNTIME=stand_in.endpoint_url, **FAKE_KEYS)
    done = subprocess.run([SDXL, "--endpoint", "aws", "generate", "x", "--seed", "6"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "stable-image-core-6.png").is_file()
    assert stand_in.endpoint_url in done.stderr


def test_installed_command_without_credentials(stand_in: MockServer, aws_home: Path,
                                               tmp_path: Path) -> None:
    env = clean_env(aws_home, AWS_REGION="us-east-1",
                    AWS_ENDPOINT_URL_BEDROCK_RUNTIME=stand_in.endpoint_url)
    done = subprocess.run([SDXL, "--endpoint", "aws", "generate", "x"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.NO_CREDENTIALS
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: no AWS credentials found")
