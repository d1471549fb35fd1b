"""The CI recipe (examples/github-actions/mock-bedrock.yml) does what it says: its steps that
start the mock in the background and wait on its health endpoint, run here as GitHub runs
them (bash, the job's env), leave a server that an AWS SDK with only that env can call.
The port is moved to a free one; the install steps (pip from a git URL) are not run here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import EXAMPLES

WORKFLOW = EXAMPLES / "github-actions" / "mock-bedrock.yml"
PORT_IN_RECIPE = "8787"
CORE = "stability.stable-image-core-v1:1"


def job() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    test_job: dict[str, Any] = loaded["jobs"]["test"]
    return test_job


def step(name: str) -> str:
    [run] = [s["run"] for s in job()["steps"] if s.get("name") == name]
    return str(run)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_the_workflow_parses_with_its_steps_and_the_clients_env() -> None:
    order = ["Start the mock", "Wait for the mock", "Run your tests"]
    named = [s.get("name") for s in job()["steps"]]
    assert [name for name in named if name in order] == order
    assert set(job()["env"]) >= {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_REGION",
                                 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.mark.skipif(not (shutil.which("bash") and shutil.which("curl")),
                    reason="the recipe's steps need bash and curl, as on GitHub's runners")
def test_its_start_and_wait_steps_leave_a_server_the_jobs_env_reaches(tmp_path: Path) -> None:
    assert PORT_IN_RECIPE in step("Start the mock")  # else the port moved nowhere
    port = str(free_port())
    job_env = {k: str(v).replace(PORT_IN_RECIPE, port) for k, v in job()["env"].items()}
    assert job_env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == f"http://127.0.0.1:{port}"
    # The runner's machine: the installed commands on PATH, no AWS configuration but the job's.
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true",
            **job_env}

    def run_step(name: str) -> subprocess.Popen[str]:
        script = step(name).replace(PORT_IN_RECIPE, port)
        # GitHub's default shell for `run:` on Linux; a session of its own, so that what the
        # step leaves running can be found (and stopped) as its process group.
        return subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    starter = run_step("Start the mock")
    try:
        assert starter.wait(timeout=30) == 0, starter.communicate()[0]
        waiter = run_step("Wait for the mock")
        output = waiter.communicate(timeout=60)[0]
        assert waiter.returncode == 0, output
        program = (
            "import json, boto3\n"
            f"answer = boto3.client('bedrock-runtime').invoke_model(modelId={CORE!r},"
            " body=json.dumps({'prompt': 'a lighthouse', 'seed': 5}))\n"
            "print(json.loads(answer['body'].read())['seeds'])\n"
        )
        called = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                                text=True, timeout=60, check=False)
        assert (called.returncode, called.stdout.strip()) == (0, "[5]"), called.stderr
        log = (tmp_path / "mock-bedrock.log").read_text()
        assert f"http://127.0.0.1:{port}" in log.splitlines()
        # On loopback its admin API needs no token: the job's tests may read the journal.
        journal = subprocess.run(
            ["curl", "-fsS", f"{job_env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME']}/_mock/journal"],
            env=env, capture_output=True, text=True, timeout=30, check=False)
        assert journal.returncode == 0, journal.stderr
        assert len(json.loads(journal.stdout)["entries"]) == 1
    finally:
        stop_group(starter.pid, int(port))


def stop_group(group: int, port: int) -> None:
    """The step's shell has exited, its background server lives on in the process group the
    shell led. The server is not this process's child (nothing to wait for): it is gone when
    its port stops answering."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while accepts(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    if accepts(port):
        os.killpg(group, signal.SIGKILL)
