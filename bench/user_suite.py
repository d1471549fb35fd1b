"""A user's test suite, generated and run as a user runs it (``python -m pytest`` in its own
process, the plugin loaded from the installed package): what the fixtures cost a test.

Four suites of the same size, each test calling Stable Image Core once where it calls at
all: through the documented ``bedrock_runtime`` fixture, through a ``boto3.client`` the test
makes inside the ``mock_bedrock`` fixture, through moto's ``mock_aws`` (its empty stub),
and empty tests (pytest's own cost). Every test sends the same body, so the mock answers
from its response cache and the figure is the fixtures' and the client's cost, not a
render's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from bench import bodies
from bench.plan import Plan
from bench.rows import Row, Target

# The documented fixture against a test that makes its own client (issue 21): building the
# client once per session leaves a test its own client's cost, and a little more.
FIXTURE_PER_TEST = Target("ratio", "<=", 1.2)

_HEADER = '''\
import json

import pytest

MODEL_ID = {model_id!r}
BODY = json.dumps({body})
TESTS = range({tests})


def call(client):
    response = client.invoke_model(modelId=MODEL_ID, body=BODY,
                                   contentType="application/json", accept="application/json")
    return response["body"].read()
'''

# Each suite's tests: the test itself, parametrized over TESTS.
SUITES = {
    "fixture": '''
@pytest.mark.parametrize("n", TESTS)
def test_generate(n, bedrock_runtime):
    assert call(bedrock_runtime)
''',
    "own client": '''
import boto3


@pytest.mark.parametrize("n", TESTS)
def test_generate(n, mock_bedrock):
    assert call(boto3.client("bedrock-runtime", region_name="us-east-1"))
''',
    "moto": '''
import boto3
from moto import mock_aws


@pytest.mark.parametrize("n", TESTS)
def test_generate(n):
    with mock_aws():
        call(boto3.client("bedrock-runtime", region_name="us-east-1"))
''',
    "empty": '''
@pytest.mark.parametrize("n", TESTS)
def test_generate(n):
    pass
''',
}

NAMES = {
    "fixture": "bedrock_runtime fixture",
    "own client": "own boto3.client in mock_bedrock",
    "moto": "moto mock_aws() per test",
    "empty": "empty tests",
}


def write_suites(folder: Path, tests: int) -> dict[str, Path]:
    """One test file per suite in ``folder``, each of ``tests`` tests."""
    request = bodies.request(bodies.CORE_ID, output_format="png")
    header = _HEADER.format(model_id=request.model_id, body=json.loads(request.body),
                            tests=tests)
    files = {}
    for name, tests_text in SUITES.items():
        path = folder / f"test_{name.replace(' ', '_')}.py"
        path.write_text(header + tests_text, encoding="utf-8")
        files[name] = path
    return files


def _environment() -> dict[str, str]:
    """The bench's environment less what would change how pytest runs the suite."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_AUTO_NUM_WORKERS")}


def run_suite(path: Path, workers: int | None) -> float:
    """Seconds a ``python -m pytest`` run of one file takes, start to exit; a failed run
    raises (a suite that fails measures nothing)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name]
    if workers:
        command += ["-n", str(workers)]
    started = perf_counter()
    done = subprocess.run(command, cwd=path.parent, capture_output=True, text=True,
                          env=_environment(), timeout=3600)
    seconds = perf_counter() - started
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"{path.name} failed ({done.returncode}): " + " / ".join(tail))
    return seconds


@dataclass(frozen=True)
class SuiteTimes:
    """Each suite's whole-run seconds, one per round."""

    tests: int
    workers: int | None
    seconds: dict[str, list[float]]

    def per_test_ms(self, name: str) -> float:
        return statistics.median(self.seconds[name]) / self.tests * 1e3

    def spread(self, name: str) -> str:
        runs = self.seconds[name]
        return f"{min(runs):.1f}-{max(runs):.1f} s"


def measure(tests: int, rounds: int, workers: int | None,
            names: Sequence[str] = tuple(SUITES)) -> SuiteTimes:
    """Every suite run ``rounds`` times, the suites alternating within each round."""
    seconds: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-user-suite-") as folder:
        files = write_suites(Path(folder), tests)
        for _ in range(rounds):
            for name in names:
                seconds[name].append(run_suite(files[name], workers))
    return SuiteTimes(tests, workers, seconds)


def rows_of(times: SuiteTimes, section: str) -> list[Row]:
    """The fixture beside a test's own client (the target), then each beside what a user
    would otherwise pay: moto's ``mock_aws`` and pytest alone."""
    how = f"-n {times.workers}" if times.workers else "one process"
    label = f"{times.tests:,} tests, {how}, per test"
    rounds = len(times.seconds["fixture"])

    def row(subject: str, baseline: str, target: Target | None = None) -> Row:
        note = (f"whole run, median of {rounds}: {times.spread(subject)} vs "
                f"{times.spread(baseline)}")
        return Row(section, f"{label}: {subject} vs {baseline}", "ms",
                   times.per_test_ms(subject), times.per_test_ms(baseline), target,
                   NAMES[subject], NAMES[baseline], note)

    return [row("fixture", "own client", FIXTURE_PER_TEST), row("own client", "moto"),
            row("fixture", "empty")]


def user_suite(plan: Plan) -> list[Row]:
    section = "6. a user's pytest suite"
    rows = []
    for workers in (None, 2):
        rows += rows_of(measure(plan.suite_tests, plan.suite_rounds, workers), section)
    return rows
