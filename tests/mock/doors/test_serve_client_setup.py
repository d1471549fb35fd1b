"""``mock-bedrock serve`` prints, under its URL, the lines that make a client work on a
machine with no AWS set-up; pasted into such a client's environment, boto3 calls the mock.
Bound to every interface, the URL it prints is one a local client can use."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mock_bedrock.client_setup import ADMIN_TOKEN_VARIABLE
from tests.support.admin_api import assert_admin_needs
from tests.support.served import serving as served_command

BIN = Path(sys.executable).parent
CORE = "stability.stable-image-core-v1:1"
CLIENT = f"""
import json, boto3
client = boto3.client("bedrock-runtime")
response = client.invoke_model(modelId={CORE!r}, body=json.dumps({{"prompt": "a lighthouse"}}))
print(json.loads(response["body"].read())["finish_reasons"])
"""


@contextmanager
def serving(*args: str, exports: int) -> Iterator[list[str]]:
    """The server's output up to its last export line (``exports`` of them)."""
    def printed_them(lines: list[str]) -> bool:
        return sum(line.startswith("export ") for line in lines) >= exports

    with served_command(*args, until=printed_them) as served:
        yield served.lines


def exported(lines: list[str]) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines
             if line.startswith("export "))
    return dict(pairs)


def bare_client_env(tmp_path: Path, variables: dict[str, str]) -> dict[str, str]:
    """No AWS configuration at all but ``variables``: no AWS_* from this process, empty
    config and credentials files, a home without ~/.aws."""
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty), **variables}


def test_the_url_comes_first_then_the_lines_to_paste() -> None:
    with serving(exports=6) as lines:
        url = lines[0]
        assert url.startswith("http://127.0.0.1:")
        assert exported(lines) == {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
            "AWS_ENDPOINT_URL_BEDROCK": url,  # the control plane's lifecycle operations
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        assert "# The key and secret are placeholders: the mock accepts any." in lines
        assert all(line.startswith(("#", "export ")) for line in lines[1:])  # pasteable


def run_client(tmp_path: Path, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLIENT], env=bare_client_env(tmp_path, variables),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_a_client_with_only_the_printed_lines_calls_the_mock(tmp_path: Path) -> None:
    with serving(exports=6) as lines:
        variables = exported(lines)
        url_only = run_client(tmp_path, {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": lines[0]})
        result = run_client(tmp_path, variables)
    assert "NoRegionError" in url_only.stderr  # the URL alone is not enough on such a machine
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[None]\n"


def test_strict_credentials_say_to_use_a_given_key_instead() -> None:
    with serving("--strict-credentials", "k1:s1", "--strict-credentials", "k2:s2",
                 exports=4) as lines:
        assert set(exported(lines)) == {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
                                        "AWS_ENDPOINT_URL_BEDROCK", "AWS_REGION",
                                        "AWS_DEFAULT_REGION"}
        [note] = [line for line in lines if "--strict-credentials" in line]
        assert "one of the pairs given (keys: k1, k2)" in note
        assert not any("s1" in line or "s2" in line for line in lines)  # secrets stay unsaid


@pytest.mark.parametrize(("host", "url_start"), [("0.0.0.0", "http://127.0.0.1:"),
                                                 ("::", "http://[::1]:")])
def test_bound_to_every_interface_it_prints_a_url_a_local_client_uses(
    host: str, url_start: str, tmp_path: Path
) -> None:
    # The one place the suite binds beyond loopback: what is shown is the answer to it.
    with serving("--host", host, exports=7) as lines:
        assert lines[0].startswith(url_start)
        assert any("Listening on all interfaces" in line for line in lines)
        variables = exported(lines)
        result = run_client(tmp_path, variables)
        # Reachable from the network, the admin API takes only the token printed (issue 18).
        assert_admin_needs(lines[0], variables.pop(ADMIN_TOKEN_VARIABLE))
    assert result.returncode == 0, result.stderr
