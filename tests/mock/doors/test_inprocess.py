"""The in-process door's mechanics: when it is on, what it leaves behind, who it answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from mock_bedrock.doors.inprocess import MockHandle, mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.faults import FaultRule

MODEL_ID = "stability.stable-diffusion-xl-v1"
BODY = json.dumps({"text_prompts": [{"text": "a quiet harbour"}], "seed": 3})
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2,
                     read_timeout=10)
# Nothing listens on the discard port on 127.0.0.1: a request that leaves the process fails.
NOWHERE = "http://127.0.0.1:9"
IDENTITY = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


# One session for the module (it caches botocore's models); made after the mock's import,
# like every session a user makes, so it carries the hook.
_SESSION = boto3.session.Session()


def client(**kwargs: Any) -> Any:
    return _SESSION.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="k",
        aws_secret_access_key="s", config=ONE_ATTEMPT, **kwargs)


def invoke(bedrock: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(bedrock.invoke_model(body=BODY, modelId=MODEL_ID)["body"]
                                      .read())
    return body


def test_answers_whatever_the_endpoint_without_a_socket() -> None:
    with mock_sdxl() as mock:
        body = invoke(client(endpoint_url=NOWHERE))
    assert body["result"] == "success"
    assert [entry.operation for entry in mock.journal.entries()] == ["InvokeModel"]


def test_outside_the_context_requests_go_out_as_usual() -> None:
    bedrock = client(endpoint_url=NOWHERE)
    with mock_sdxl():
        invoke(bedrock)
    with pytest.raises(EndpointConnectionError):
        invoke(bedrock)  # the same client, after the context: a real (failing) connection
    with MockServer() as server:
        invoke(client(endpoint_url=server.endpoint_url))
        assert len(server.journal) == 1  # it went over the socket to the server


def test_client_made_before_the_context_is_answered() -> None:
    bedrock = client()
    with mock_sdxl() as mock:
        invoke(bedrock)
    assert len(mock.journal) == 1


def test_decorator_form_with_a_shared_app() -> None:
    app = MockBedrock()

    @mock_sdxl(app)
    def generate(prompt: str) -> str:
        raw = client().invoke_model(
            body=json.dumps({"text_prompts": [{"text": prompt}]}), modelId=MODEL_ID)
        return str(json.loads(raw["body"].read())["result"])

    assert generate("first") == "success"
    assert generate("second") == "success"
    assert [entry.body["text_prompts"][0]["text"] for entry in app.journal.entries()] == [
        "first", "second"]
    assert generate.__name__ == "generate"


@mock_sdxl()
def test_decorator_passes_pytest_fixtures_through(tmp_path: Any) -> None:
    assert tmp_path.exists()
    assert invoke(client())["result"] == "success"


def test_nested_contexts_innermost_answers_and_exits_restore() -> None:
    bedrock = client(endpoint_url=NOWHERE)
    with mock_sdxl() as outer:
        invoke(bedrock)
        with mock_sdxl() as inner:
            invoke(bedrock)
            with mock_sdxl(outer.app):  # re-entering an app already in use
                invoke(bedrock)
            invoke(bedrock)
        invoke(bedrock)
    assert (len(outer.journal), len(inner.journal)) == (3, 2)
    with pytest.raises(EndpointConnectionError):
        invoke(bedrock)


def test_the_same_context_object_can_be_entered_again() -> None:
    context = mock_sdxl()
    with context:
        invoke(client())
    with context as mock:
        invoke(client())
    assert len(mock.journal) == 2


def test_handle_exposes_the_apps_controls() -> None:
    with mock_sdxl() as mock:
        assert isinstance(mock, MockHandle)
        assert mock.faults is mock.app.faults
        assert mock.journal is mock.app.journal


def test_app_and_app_arguments_are_exclusive() -> None:
    with pytest.raises(TypeError):
        mock_sdxl(MockBedrock(), credentials={"k": "s"})


def canned_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that is not the mock: one fixed model answer."""
    body = json.dumps({"result": "success", "artifacts": []}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def test_any_wsgi_app_answers_but_only_the_mock_has_controls() -> None:
    with mock_sdxl(canned_app) as handle:
        assert invoke(client(endpoint_url=NOWHERE)) == {"result": "success", "artifacts": []}
        for control in ("faults", "journal"):
            with pytest.raises(TypeError, match=f"no {control} here.*function, not a MockBedrock"):
                getattr(handle, control)


def test_fake_identity_when_none_is_configured_and_restored_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in (*IDENTITY, "AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with mock_sdxl():
        bare = boto3.session.Session().client("bedrock-runtime")  # no region, no keys given
        assert invoke(bare)["result"] == "success"
    assert not any(name in os.environ for name in IDENTITY)


def test_configured_identity_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "my-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_sdxl():
        assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"
        assert boto3.session.Session().region_name == "eu-west-1"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "my-secret"


def test_strict_credentials_see_the_real_signature() -> None:
    # The request reaches the app signed, exactly as it would leave the machine.
    with mock_sdxl(credentials={"k": "s"}):
        assert invoke(client())["result"] == "success"
        wrong = _SESSION.client(
            "bedrock-runtime", region_name="us-east-1", aws_access_key_id="k",
            aws_secret_access_key="not-s", config=ONE_ATTEMPT)
        with pytest.raises(wrong.exceptions.ClientError) as refused:
            invoke(wrong)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_threaded_callers_are_all_answered() -> None:
    def call(n: int) -> int:
        bedrock = client()
        raw = bedrock.invoke_model(
            body=json.dumps({"text_prompts": [{"text": f"thread {n}"}], "seed": n + 1}),
            modelId=MODEL_ID)
        seed: int = json.loads(raw["body"].read())["artifacts"][0]["seed"]
        return seed

    with mock_sdxl() as mock, ThreadPoolExecutor(4) as pool:
        seeds = list(pool.map(call, range(8)))
    assert seeds == [n + 1 for n in range(8)]
    assert len(mock.journal) == 8


def test_a_context_in_one_thread_serves_calls_from_another() -> None:
    results: list[str] = []
    with mock_sdxl():
        worker = threading.Thread(target=lambda: results.append(invoke(client())["result"]))
        worker.start()
        worker.join()
    assert results == ["success"]


def test_boto3_default_session_created_before_import_is_hooked(tmp_path: Any) -> None:
    # A fresh interpreter: boto3's default session exists before the mock is imported.
    script = textwrap.dedent(f"""
        import json, boto3
        boto3.setup_default_session(region_name="us-east-1", aws_access_key_id="k",
                                    aws_secret_access_key="s")
        before = boto3.client("bedrock-runtime", endpoint_url={NOWHERE!r})
        from mock_bedrock.doors.inprocess import attach, mock_sdxl
        attach(before)  # a client older than the import needs attach()
        after = boto3.client("bedrock-runtime", endpoint_url={NOWHERE!r})
        with mock_sdxl() as mock:
            for bedrock in (before, after):
                bedrock.invoke_model(body={BODY!r}, modelId={MODEL_ID!r})["body"].read()
        print(len(mock.journal))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


def test_plugin_client_fixture_is_answered_in_process(
    bedrock_runtime: Any, mock_bedrock: MockHandle
) -> None:
    assert invoke(bedrock_runtime)["result"] == "success"
    [entry] = mock_bedrock.journal.entries()
    assert entry.body == json.loads(BODY)
    mock_bedrock.faults.add(FaultRule(latency_ms=1, name="left behind"))


def test_plugin_fixture_starts_each_test_with_no_faults_or_calls(
    mock_bedrock: MockHandle,
) -> None:
    # Runs after the test above on the same session-wide app: its call is forgotten.
    assert len(mock_bedrock.journal) == 0
    assert mock_bedrock.faults.rules == []


def test_an_app_crash_is_the_same_500_through_both_doors() -> None:
    def crash(environ: dict[str, Any], start_response: Any) -> Any:
        raise RecursionError("a bug in the app")

    errors = []
    with MockServer(crash) as server:
        with pytest.raises(ClientError) as over_socket:
            invoke(client(endpoint_url=server.endpoint_url))
        errors.append(over_socket.value.response)
    with mock_sdxl(crash), pytest.raises(ClientError) as in_process:  # type: ignore[arg-type]
        invoke(client())
    errors.append(in_process.value.response)
    assert [e["ResponseMetadata"]["HTTPStatusCode"] for e in errors] == [500, 500]
    assert errors[0]["Error"] == errors[1]["Error"]
