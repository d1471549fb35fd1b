"""The bench harness end to end at a tiny scale: it measures every comparison, writes the
table and the JSON, replays the mock's bytes from its baseline server, survives a missing
piece, and leaves no thread running. Timings are never asserted."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from PIL import Image

from bedrock_contract import check_request
from bench import baselines, bodies, clients, memory, startup, subjects, user_suite
from bench.comparisons import (
    first_renders,
    guarded,
    inprocess_vs_moto,
    latency_requests,
    server_vs_bare_http,
    service_jobs,
)
from bench.invoke import invoke
from bench.plan import Plan
from bench.report import as_json, markdown
from bench.rows import Row, Target
from bench.run import main, run

# A couple of calls per contender: enough to exercise every path, far too few to time.
TINY = Plan(rounds=1, latency_calls=2, warmup=0, threads=2, calls_per_thread=2,
            throughput_rounds=1, renders_per_size=2, validated_bodies=10,
            baseline_validated_bodies=2, memory_calls=3)


def test_verdicts_follow_targets_on_ratio_or_value() -> None:
    slower = Row("s", "median", "ms", 3.0, 2.0, Target("ratio", "<=", 1.3))
    faster = Row("s", "median", "ms", 2.0, 2.0, Target("ratio", "<=", 1.3))
    rate = Row("s", "rate", "bodies/s", 19_999.0, 100.0, Target("value", ">=", 20_000))
    assert (slower.ratio, slower.verdict) == (1.5, "MISS")
    assert faster.verdict == "PASS"
    assert rate.verdict == "MISS"  # a 200x ratio does not rescue a missed absolute target
    assert Row("s", "m", "ms", None, 2.0, Target("ratio", "<=", 1.3)).verdict == "not available"


def test_bare_server_replays_the_canned_response_byte_for_byte() -> None:
    canned = baselines.CannedResponse(
        200, (("Content-Type", "application/json"), ("x-amzn-RequestId", "r-1")), b'{"a": 1}'
    )
    with baselines.BareHTTPServer(canned) as server:
        client = clients.bedrock_runtime(server.endpoint_url)
        try:
            first = invoke(client, bodies.request())
            second = invoke(client, bodies.request())  # kept-alive socket
        finally:
            client.close()
    assert first == second == b'{"a": 1}'


def test_a_missing_module_gives_a_not_available_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mock_bedrock.placeholder", None)  # import fails
    rows = guarded("3. first placeholder render", first_renders, TINY)
    assert [row.verdict for row in rows] == ["not available"]
    assert "mock_bedrock.placeholder" in rows[0].note


def test_baseline_is_still_measured_when_the_mock_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mock_bedrock.doors.inprocess", None)
    rows = inprocess_vs_moto(TINY)
    assert [row.verdict for row in rows] == ["not available"] * 4  # SDXL's and Core's
    assert all(row.baseline is not None for row in rows)
    assert "mock_bedrock.doors.inprocess" in rows[0].note


def test_server_comparison_stops_every_thread_it_starts() -> None:
    before = set(threading.enumerate())
    rows = server_vs_bare_http(TINY)
    names = [bodies.SDXL.name, bodies.CORE.name]
    assert [row.metric for row in rows] == [
        *(f"{name} {metric} latency" for name in names for metric in ("median", "p99")),
        *(f"{name} throughput, {TINY.threads} clients" for name in names),
    ]
    assert all(row.subject and row.baseline for row in rows)
    assert set(threading.enumerate()) - before == set()


@pytest.mark.parametrize("output_format", bodies.OUTPUT_FORMATS)
def test_each_format_is_rendered_from_a_valid_body_in_that_format(output_format: str) -> None:
    model_id, contract = bodies.format_model(output_format)
    body = bodies.text_to_image(contract, output_format=output_format)
    check_request(contract, body)
    rendered = Image.open(io.BytesIO(subjects.uncached_render(contract, model_id)(body, 7)))
    naive = Image.open(io.BytesIO(baselines.naive_image((8, 8), output_format)))
    assert rendered.format == naive.format  # the baseline encodes the same format
    assert rendered.size == bodies.default_size(contract)


def test_each_service_job_renders_what_its_baseline_renders() -> None:
    for job in service_jobs():
        rendered = Image.open(io.BytesIO(job.render()(job.body_at(3), 3)))
        naive = Image.open(io.BytesIO(job.naive()))
        check_request(job.contract, job.body_at(3))
        assert (rendered.format, rendered.size) == (naive.format, naive.size), job.metric
        assert rendered.size == job.contract.output_size(job.request.body, job.request.images)


def test_every_latency_request_is_valid_for_its_model() -> None:
    for request in latency_requests().values():
        check_request(request.contract, request.body)


def test_memory_probe_counts_the_journal_it_keeps() -> None:
    kept, cleared = memory.VARIANTS[0], memory.VARIANTS[1]
    assert memory.measure(kept, "tracemalloc", 3).journal_entries == 3
    assert memory.measure(cleared, "tracemalloc", 3).journal_entries == 0


def test_every_in_process_comparison_is_measured_and_reported() -> None:
    rows = run(TINY, only=("inprocess", "render", "validation"))
    assert [(row.section[0], row.metric) for row in rows[:4]] == [
        ("1", f"{name} {metric} latency")
        for name in (bodies.SDXL.name, bodies.CORE.name) for metric in ("median", "p99")
    ]
    # latency x2 per model, one per SDXL size, one per output format, an inpaint and a
    # fast upscale, validation
    sizes, formats = len(bodies.sizes(bodies.SDXL)), len(bodies.OUTPUT_FORMATS)
    assert len(rows) == 4 + sizes + formats + 2 + 1
    assert [row.metric for row in rows[4 + sizes:-1]] == [
        *(f"{fmt} 1024x1024 median" for fmt in bodies.OUTPUT_FORMATS),
        f"{bodies.INPAINT.name} 1024x1024, a quarter masked, png median",
        f"{bodies.FAST_UPSCALE.name} 512x512 to 2048x2048, png median",
    ]
    assert [row.baseline_name for row in rows[-3:-1]] == [
        "naive Pillow fill through the mask, PNG", "naive Pillow 4x bicubic, PNG",
    ]
    assert all(row.subject and row.baseline for row in rows)
    assert {row.verdict for row in rows} <= {"PASS", "MISS", "-"}
    table = markdown(rows, TINY, 1.0)
    assert "| comparison | metric | subject | baseline | ratio | target | verdict |" in table
    assert all(f"| {row.section} | {row.metric} |" in table for row in rows)
    document = json.loads(as_json(rows, TINY, 1.0))
    assert [r["verdict"] for r in document["rows"]] == [row.verdict for row in rows]


def test_command_writes_latest_md_and_json(tmp_path) -> None:
    args = ["--scale", "0.0001", "--only", "validation", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "latest.md").read_text() in result.output
    [row] = json.loads((tmp_path / "latest.json").read_text())["rows"]
    assert row["section"] == "4. request validation"
    assert row["target"] == ">= 20,000 bodies/s"


def test_every_generated_user_suite_passes(tmp_path) -> None:
    # One pytest run over the four suites, two tests each: each is a suite a user could run.
    user_suite.write_suites(tmp_path, 2)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only the mock's plugin
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "mock_bedrock.testing.pytest_plugin"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{2 * len(user_suite.SUITES)} passed" in done.stdout


def test_user_suite_rows_put_the_fixture_beside_a_tests_own_client() -> None:
    times = user_suite.SuiteTimes(1_000, 2, {"fixture": [24.0, 20.0, 22.0],
                                             "own client": [20.0, 21.0, 19.0],
                                             "moto": [110.0, 100.0, 120.0],
                                             "empty": [1.0, 1.2, 0.8]})
    rows = user_suite.rows_of(times, "6. a user's pytest suite")
    assert [(row.subject_name, row.baseline_name) for row in rows] == [
        ("bedrock_runtime fixture", "own boto3.client in mock_bedrock"),
        ("own boto3.client in mock_bedrock", "moto mock_aws() per test"),
        ("bedrock_runtime fixture", "empty tests"),
    ]
    first = rows[0]
    assert (first.subject, first.baseline) == (22.0, 20.0)  # medians, ms per test
    assert first.verdict == "PASS"  # 1.1x, within 1.2x
    assert "-n 2" in first.metric and "20.0-24.0 s" in first.note


def test_startup_rows_time_each_command_beside_importing_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(startup, "COMMANDS", startup.COMMANDS[:1])  # sdxl --version
    [row] = startup.cli_startup(Plan(startup_runs=1))
    assert (row.metric, row.baseline_name) == ("sdxl --version, median",
                                               'python -c "import boto3"')
    assert row.subject and row.baseline and row.target == startup.START_UP
