"""The sample user project (examples/user_project) passes its own tests on the plugin's
fixtures alone, and those tests fail when its code sends a body the contract refuses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import EXAMPLES

PROJECT = EXAMPLES / "user_project"
TESTS_IN_PROJECT = 9
# Its tests of the live model (Stable Image Core), as opposed to the two of its old SDXL path.
LIVE_TESTS = 7


def run_project_tests(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    # The project must not need an AWS account: no credentials, files, or instance metadata.
    env |= {"AWS_SHARED_CREDENTIALS_FILE": str(project / "none"),
            "AWS_CONFIG_FILE": str(project / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run(
        [sys.executable, "-m", "pytest",
         # hypothesis's plugin (installed here, not used by the project) is slow to report.
         "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-q", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=240, check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "user_project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return copy


def plant(project: Path, old: str, new: str) -> None:
    module = project / "posters.py"
    text = module.read_text()
    assert old in text, "the planted bug must change the code under test"
    module.write_text(text.replace(old, new))


def test_the_sample_projects_tests_pass_on_the_fixtures(project: Path) -> None:
    run = run_project_tests(project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{TESTS_IN_PROJECT} passed, 1 warning" in run.stdout
    # The SDXL call answered as of a date before its end of life is flagged in that test.
    assert "test_posters.py::test_the_legacy_path_drew_posters_before_sdxls_end_of_life" in run.stdout
    assert ("EndOfLifeWarning: stability.stable-diffusion-xl-v1 reached its end of life on "
            "2025-05-20") in run.stdout


def test_its_tests_fail_when_the_code_sends_a_bad_body(project: Path) -> None:
    plant(project, 'ASPECT_RATIO = "2:3"', 'ASPECT_RATIO = "3:7"')
    run = run_project_tests(project)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{LIVE_TESTS} failed" in run.stdout
    assert (
        "ValidationException) when calling the InvokeModel operation: Malformed input request: "
        "#/aspect_ratio: 3:7 is not a valid enum value, please reformat your input and try "
        "again."
    ) in run.stdout


def test_under_xdist_each_worker_gets_its_own_server(project: Path) -> None:
    # Each worker notes the URL of the server it was given, in the project's directory.
    (project / "tests" / "test_worker_url.py").write_text(
        "import os, pathlib\n"
        "def test_note_url(mock_bedrock_server):\n"
        "    worker = os.environ['PYTEST_XDIST_WORKER']\n"
        "    here = pathlib.Path(__file__).parent\n"
        "    (here / f'url-{worker}').write_text(mock_bedrock_server.endpoint_url)\n"
    )
    # --dist each: every worker runs every test, so both workers surely note their server.
    run = run_project_tests(project, "-n", "2", "--dist", "each")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{(TESTS_IN_PROJECT + 1) * 2} passed" in run.stdout
    notes = {path.name.split("-")[1]: path.read_text() for path in (project / "tests").glob("url-*")}
    assert sorted(notes) == ["gw0", "gw1"], run.stdout
    assert len(set(notes.values())) == 2  # two servers on two ports
