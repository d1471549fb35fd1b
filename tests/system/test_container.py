"""The container image (Dockerfile): built, started as a user would start it, and called
with boto3 through the URL and lines it prints; its health endpoint, HEALTHCHECK, user and
stop. It needs docker and a built image, so it runs when `make container-check` has built
one (it sets MOCK_BEDROCK_CONTAINER_IMAGE; any image built from the Dockerfile will do)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from mock_bedrock.client_setup import ADMIN_TOKEN_VARIABLE
from tests.support.admin_api import admin, assert_admin_needs

IMAGE = os.environ.get("MOCK_BEDROCK_CONTAINER_IMAGE", "")
# container/check.sh removes every container with its run's label, whatever happens here.
LABEL = f"mock-bedrock-check={os.environ.get('MOCK_BEDROCK_CHECK_LABEL', 'pytest')}"
CORE = "stability.stable-image-core-v1:1"
SDXL = "stability.stable-diffusion-xl-v1"

pytestmark = pytest.mark.skipif(
    not IMAGE, reason="no container image named: run `make container-check`"
)


def docker(*args: str, check: bool = True, timeout: float = 60) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def free_port() -> int:
    # On the host network the container binds the port itself: ask the kernel for a free one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Container:
    id: str
    port: int

    def logs(self) -> str:
        done = subprocess.run(["docker", "logs", self.id], capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout + done.stderr


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/health", timeout=2) as got:
            answer: dict[str, Any] = json.load(got)
            return answer
    except OSError:
        return None


def start(*env: str) -> Container:
    """The image run as docs/container.md says, on the host network (this machine's dockerd
    has no bridge), its port through MOCK_BEDROCK_PORT (and ``env``, NAME=VALUE, in its
    environment); returned once it answers its health check."""
    port = free_port()
    options = [arg for pair in env for arg in ("-e", pair)]
    cid = docker("run", "-d", "--network", "host", "--label", LABEL,
                 "-e", f"MOCK_BEDROCK_PORT={port}", *options, IMAGE)
    container = Container(cid, port)
    deadline = time.monotonic() + 60
    while health(port) is None:
        running = docker("inspect", "--format", "{{.State.Running}}", cid)
        if running != "true" or time.monotonic() > deadline:
            logs = container.logs()
            docker("rm", "-f", cid, check=False)
            raise AssertionError(f"the container never answered on {port}:\n{logs}")
        time.sleep(0.2)
    return container


@pytest.fixture(scope="module")
def container() -> Iterator[Container]:
    started = start()
    try:
        yield started
    finally:
        docker("rm", "-f", started.id, check=False)


def exported(logs: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in logs.splitlines()
             if line.startswith("export "))
    return dict(pairs)


def test_its_first_line_is_a_url_a_client_on_this_machine_can_use(
    container: Container, tmp_path: Path
) -> None:
    logs = container.logs()
    url = logs.splitlines()[0]
    assert url == f"http://127.0.0.1:{container.port}", logs
    variables = exported(logs)
    assert variables["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == url
    # The pasted lines alone, on a machine with no AWS set-up: unchanged boto3 code works.
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true",
            **variables}
    program = (
        "import json, boto3\n"
        "client = boto3.client('bedrock-runtime')\n"
        f"answer = client.invoke_model(modelId={CORE!r}, body=json.dumps("
        "{'prompt': 'a lighthouse', 'seed': 7}))\n"
        "body = json.loads(answer['body'].read())\n"
        "print(json.dumps({'seeds': body['seeds'], 'finish': body['finish_reasons'],"
        " 'image': len(body['images'][0])}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["seeds"], answer["finish"]) == ([7], [None])
    assert answer["image"] > 1000


def client(container: Container) -> Any:
    return boto3.client("bedrock-runtime", endpoint_url=f"http://127.0.0.1:{container.port}",
                        region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_sdxl_streams_and_a_bad_body_is_refused_not_a_500(container: Container) -> None:
    bedrock = client(container)
    body = json.dumps({"text_prompts": [{"text": "a harbour"}], "seed": 3})
    stream = bedrock.invoke_model_with_response_stream(modelId=SDXL, body=body)
    [chunk] = [event["chunk"]["bytes"] for event in stream["body"]]
    assert json.loads(chunk)["artifacts"][0]["seed"] == 3
    with pytest.raises(ClientError) as refused:
        bedrock.invoke_model(modelId=SDXL, body=json.dumps(
            {"text_prompts": [{"text": "a harbour"}], "steps": 300}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "#/steps" in refused.value.response["Error"]["Message"]


def test_health_names_the_version_built_and_the_models(container: Container) -> None:
    answer = health(container.port)
    assert answer is not None
    assert answer["status"] == "ok"
    # The image is built from this source tree, installed here too.
    assert answer["version"] == version("sdxl-bedrock")
    assert {CORE, SDXL} <= set(answer["models"])


def test_the_images_healthcheck_reports_healthy(container: Container) -> None:
    status = ""
    deadline = time.monotonic() + 90  # the first check runs one interval (5 s) after start
    while time.monotonic() < deadline:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", container.id)
        if status != "starting":
            break
        time.sleep(0.5)
    assert status == "healthy", docker("inspect", "--format", "{{json .State.Health}}",
                                       container.id)


def test_the_server_runs_unprivileged_and_cannot_change_its_install(
    container: Container,
) -> None:
    assert docker("exec", container.id, "id", "-u") != "0"
    write = subprocess.run(["docker", "exec", container.id, "touch", "/opt/mock-bedrock/x"],
                           capture_output=True, text=True, timeout=30, check=False)
    assert write.returncode != 0


def test_its_admin_api_takes_only_the_token_it_printed(container: Container) -> None:
    # Bound to 0.0.0.0, reachable through any port mapping: the journal and the faults are
    # the token holder's (issue 18); the health check needs none.
    token = exported(container.logs())[ADMIN_TOKEN_VARIABLE]
    assert_admin_needs(f"http://127.0.0.1:{container.port}", token)


def test_a_token_given_in_its_environment_is_the_one_needed() -> None:
    given = start(f"{ADMIN_TOKEN_VARIABLE}=a-token-for-ci")
    try:
        assert ADMIN_TOKEN_VARIABLE not in exported(given.logs())  # not printed back
        assert_admin_needs(f"http://127.0.0.1:{given.port}", "a-token-for-ci")
    finally:
        docker("rm", "-f", given.id, check=False)


def test_docker_stop_ends_it_cleanly_with_a_call_in_a_latency_fault() -> None:
    # Stopped with SIGTERM, the server (PID 1, through exec) exits 0 at once, a call waiting
    # out a ten-minute latency fault included; a server that ignored it would be killed
    # when the grace period ends, exit code 137.
    stopped = start(f"{ADMIN_TOKEN_VARIABLE}=stop-token")
    try:
        url = f"http://127.0.0.1:{stopped.port}"
        rule = json.dumps({"latency_ms": 600_000}).encode()
        assert admin(url, "POST", "/_mock/faults", "stop-token", rule)[0] == 201
        def call() -> None:  # dropped at the stop: botocore gives up after its retries
            with contextlib.suppress(ClientError, BotoCoreError):
                client(stopped).invoke_model(modelId=CORE, body=json.dumps({"prompt": "a"}))

        threading.Thread(target=call, daemon=True).start()
        deadline = time.monotonic() + 30
        while admin(url, "GET", "/_mock/faults", "stop-token")[2]["rules"][0]["fired"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        began = time.monotonic()
        docker("stop", "--time", "20", stopped.id)
        assert time.monotonic() - began < 10  # old: the 20 s grace, then a kill
        assert docker("inspect", "--format", "{{.State.ExitCode}}", stopped.id) == "0"
    finally:
        docker("rm", "-f", stopped.id, check=False)
