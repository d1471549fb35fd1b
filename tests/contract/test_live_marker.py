"""The ``bedrock_live`` marker and ``--bedrock-contract`` (``--sdxl-contract``), seen from a user's pytest run (in a
subprocess, the plugin loaded with ``-p`` as a user's entry point would load it)."""

from __future__ import annotations

import pytest

from mock_bedrock.doors.server import MockServer
from sdxl_adapter.contract import runner as suite
from tests.support import contract_standin as standin

pytest_plugins = ["pytester"]

LIVE_TEST = '''
import pytest

@pytest.mark.bedrock_live
def test_live():
    pass

def test_offline():
    pass
'''
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")


def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str,
               credentials: bool) -> pytest.RunResult:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Nothing on this machine may lend credentials: no shared files, no instance metadata.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(pytester.path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(pytester.path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if credentials:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLIVEMARKER")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-used")
    return pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
        "--strict-markers", "-rs",
        *args,
    )


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user=LIVE_TEST)
    return pytester


def test_live_tests_are_skipped_by_default_with_the_reason(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_pytest(project, monkeypatch, credentials=True)
    assert run.ret == 0, run.outlines
    assert "1 passed, 1 skipped" in run.stdout.str()
    assert "live Bedrock tests are off: pass --bedrock-live to run them" in run.stdout.str()


def test_live_tests_without_credentials_are_skipped_with_the_reason(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_pytest(project, monkeypatch, "--bedrock-live", credentials=False)
    assert run.ret == 0, run.outlines
    assert "1 passed, 1 skipped" in run.stdout.str()
    assert "--bedrock-live given, but botocore found no AWS credentials" in run.stdout.str()


def test_live_tests_run_with_the_option_and_credentials(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_pytest(project, monkeypatch, "--bedrock-live", credentials=True)
    assert run.ret == 0, run.outlines
    assert "2 passed" in run.stdout.str() and "skipped" not in run.stdout.str()


def test_the_contract_suite_runs_as_tests_against_a_mock_server(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # A few checks are enough to show the mechanism; the whole suite runs against the
    # server door in test_contract_suite. The option by its neutral name (the tests below
    # use its first name, --sdxl-contract, still taken).
    run = run_pytest(project, monkeypatch, "--bedrock-contract=server", "-k", "steps", "-v",
                     credentials=False)
    assert run.ret == 0, run.outlines
    steps_checks = [c for c in suite.checks() if "steps" in c.name]
    run.assert_outcomes(passed=len(steps_checks))
    run.stdout.fnmatch_lines(
        ["*::sdxl-contract?server? stable-diffusion-xl-v1: steps above its maximum PASSED*"]
    )


def test_the_live_contract_needs_the_live_option(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_pytest(project, monkeypatch, "--sdxl-contract=aws", "-k", "sdxl-contract", credentials=True)
    assert run.ret == 0, run.outlines
    assert f"{len(suite.live_checks())} skipped" in run.stdout.str()
    assert "live Bedrock tests are off" in run.stdout.str()


def test_a_contract_difference_fails_its_test_with_the_report(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    drifted = standin.Drifted(standin.seed_zero_echoed)
    with MockServer(app=drifted) as server:
        url = server.endpoint_url
        run = run_pytest(project, monkeypatch, f"--sdxl-contract={url}", "-k",
                         "stable-image-core and picks", credentials=False)
    assert run.ret == 1, run.outlines
    assert "1 failed" in run.stdout.str()
    assert f"{url} differs from the contract:" in run.stdout.str()
    assert "FAIL  stable-image-core: seed 0 picks a non-zero seed" in run.stdout.str()
    assert "seed: expected non-zero (the service picks one for 0)" in run.stdout.str()
    assert len(drifted.app.journal) == 1  # only the selected check ran


AFTER_THE_CONTRACT = '''
import boto3, pytest
from botocore.exceptions import EndpointConnectionError

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.name == "test_after_the_contract")
'''
CALLS_A_CLOSED_PORT = '''
import boto3, json, socket, pytest
from botocore.exceptions import EndpointConnectionError

def test_after_the_contract():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.client("bedrock-runtime", endpoint_url=f"http://127.0.0.1:{port}",
                          region_name="us-east-1", aws_access_key_id="a",
                          aws_secret_access_key="b")
    with pytest.raises(EndpointConnectionError):  # not answered by a leftover mock
        client.invoke_model(modelId="m", body=json.dumps({}))
'''


def test_the_in_process_contract_leaves_later_tests_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(AFTER_THE_CONTRACT)
    pytester.makepyfile(test_after=CALLS_A_CLOSED_PORT)
    run = run_pytest(pytester, monkeypatch, "--sdxl-contract=mock", "-v", credentials=False)
    assert run.ret == 0, run.outlines
    run.assert_outcomes(passed=len(suite.checks()) + 1)
    assert run.outlines.index(next(line for line in run.outlines if "test_after_the_contract"
                                   in line)) > run.outlines.index(next(
                                       line for line in run.outlines if "sdxl-contract[mock]"
                                       in line))
