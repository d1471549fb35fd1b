"""The plugin's fixtures share what is costly across a run (the mock, botocore's session)
and nothing a test could notice: a user's suite, run in its own process with and without
pytest-xdist, in which every test first checks that it finds none of what the tests before
it left (the journal, fault rules, the as-of date, a client's handlers, an environment),
then leaves all of it behind. Whichever way the tests fall on the workers, some run after
others on the same one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USER_TESTS = '''
import datetime
import json
import threading
import time

import boto3
import pytest

from mock_bedrock.doors import hook
from mock_bedrock.service.faults import FaultRule

CORE = "stability.stable-image-core-v1:1"
BODY = json.dumps({"prompt": "a lighthouse", "output_format": "png"})
REGIONS = ["eu-west-1", "us-west-2", "ap-northeast-1", "eu-central-1", "us-east-2", "ca-central-1"]
TESTS = range(len(REGIONS))
MARKED = datetime.date(2025, 6, 1)
LEFT = []  # the call a test of this worker left in flight


def call(client):
    response = client.invoke_model(modelId=CORE, body=BODY, contentType="application/json")
    return json.loads(response["body"].read())["finish_reasons"]


def refuse(**kwargs):
    raise AssertionError("a handler registered by an earlier test ran")


@pytest.fixture
def own_environment(monkeypatch, n):
    # Set before the client is made: the client must be made in this test's environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"AKIDTEST{n}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGIONS[n])


def finds_nothing_left(mock, as_of=None):
    assert mock.journal.entries() == []
    assert mock.faults.rules == []
    assert mock.app.as_of == as_of


def leaves_everything(mock, client=None):
    mock.faults.add(FaultRule(error="ThrottlingException"))
    mock.app.as_of = datetime.date(2020, 1, 1)  # before any model of the catalogue
    if client is not None:
        client.meta.events.register("after-call.bedrock-runtime", refuse)
        # Without the in-process door's handler the call would go to the endpoint, a port
        # that refuses it: a later test would fail, not reach the network.
        client.meta.events.unregister(hook.EVENT, unique_id=hook.UNIQUE_ID)


@pytest.mark.parametrize("n", TESTS)
def test_client(n, own_environment, mock_bedrock, bedrock_runtime):
    finds_nothing_left(mock_bedrock)
    assert bedrock_runtime.meta.region_name == REGIONS[n]
    # The one place a client shows the credentials it signs with.
    assert bedrock_runtime._request_signer._credentials.access_key == f"AKIDTEST{n}"
    assert call(bedrock_runtime) == [None]
    assert len(mock_bedrock.journal.entries()) == 1
    leaves_everything(mock_bedrock, bedrock_runtime)


@pytest.mark.parametrize("n", TESTS)
@pytest.mark.mock_bedrock_as_of(MARKED)
def test_marked(n, mock_bedrock, bedrock_runtime):
    finds_nothing_left(mock_bedrock, as_of=MARKED)
    assert call(bedrock_runtime) == [None]
    leaves_everything(mock_bedrock, bedrock_runtime)


@pytest.mark.parametrize("n", TESTS)
def test_own_client(n, mock_bedrock):
    finds_nothing_left(mock_bedrock)
    assert call(boto3.client("bedrock-runtime")) == [None]
    leaves_everything(mock_bedrock)


@pytest.mark.parametrize("n", TESTS)
def test_server(n, mock_bedrock_endpoint, mock_bedrock_server):
    finds_nothing_left(mock_bedrock_server)
    client = boto3.client("bedrock-runtime")
    assert client.meta.endpoint_url == mock_bedrock_endpoint
    assert call(client) == [None]
    client.close()
    assert len(mock_bedrock_server.journal.entries()) == 1
    control = boto3.client("bedrock")  # the control plane: the same server
    assert control.meta.endpoint_url == mock_bedrock_endpoint
    assert control.get_foundation_model(modelIdentifier=CORE)["modelDetails"]["modelId"] == CORE
    control.close()
    leaves_everything(mock_bedrock_server)


@pytest.mark.parametrize("n", TESTS)
@pytest.mark.mock_bedrock_as_of(MARKED)
def test_server_marked(n, mock_bedrock_endpoint, mock_bedrock_server):
    # The marker reaches the session's server for this test only: the tests after it find
    # the run's date (none) again.
    finds_nothing_left(mock_bedrock_server, as_of=MARKED)
    assert call(boto3.client("bedrock-runtime")) == [None]
    leaves_everything(mock_bedrock_server)


@pytest.mark.parametrize("n", TESTS)
def test_server_alone(n, mock_bedrock_server):
    for thread in LEFT:  # a call an earlier test left in flight ends now, in this test
        thread.join()
    finds_nothing_left(mock_bedrock_server)
    client = boto3.client("bedrock-runtime", endpoint_url=mock_bedrock_server.endpoint_url,
                          region_name="us-east-1", aws_access_key_id="AKIDTEST",
                          aws_secret_access_key="secret")
    assert call(client) == [None]
    assert len(mock_bedrock_server.journal.entries()) == 1
    mock_bedrock_server.faults.add(FaultRule(latency_ms=1000))
    LEFT[:] = [threading.Thread(target=call, args=(client,))]
    LEFT[0].start()
    while not any(rule["fired"] for rule in mock_bedrock_server.faults.snapshot()):
        time.sleep(0.01)  # until the call has arrived: it is in flight when this test ends
    leaves_everything(mock_bedrock_server)
'''
TESTS = 6 * 6


def run_user_suite(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    # Only the plugins named here: the run does not pay for every plugin installed.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           # A client that lost the in-process door would be refused here, never sent out.
           "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "mock_bedrock.testing.pytest_plugin", *args, "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )


@pytest.mark.parametrize("workers", [[], ["-p", "xdist.plugin", "-n", "2"]],
                         ids=["one process", "xdist"])
def test_no_test_finds_what_another_left(tmp_path: Path, workers: list[str]) -> None:
    result = run_user_suite(tmp_path, *workers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{TESTS} passed" in result.stdout
