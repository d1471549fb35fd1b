"""``sdxl batch``: concurrent runs with throttling, bad lines, the manifest, and resuming
after a SIGKILL or a Ctrl-C without regenerating or overwriting finished images."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.manifest import Manifest, Record, read_records
from sdxl_adapter.models import SDXL_MODEL_ID
from sdxl_adapter.result import read_parameters
from tests.support.jsonl import write_lines
from tests.support.served import ServedMock

SDXL = str(Path(sys.executable).with_name("sdxl"))
MOCK_BEDROCK = str(Path(sys.executable).with_name("mock-bedrock"))


def sdxl(*args: str) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in tests/cli/test_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], catch_exceptions=False)


def ok_records(out_dir: Path) -> dict[int, Record]:
    latest = {r.line: r for r in read_records(out_dir / "manifest.jsonl")}
    return {line: r for line, r in latest.items() if r.ok}


def successes(server: MockServer) -> list[Any]:
    return [e for e in server.journal.entries() if e.status == 200]


def test_200_lines_with_a_third_throttled_all_finish(served: ServedMock, tmp_path: Path) -> None:
    served.add_faults({"error": "ThrottlingException", "probability": 1 / 3, "seed": 4})
    batch = write_lines(tmp_path / "prompts.jsonl",
                        [f"prompt {n}" if n % 2 else {"prompt": f"prompt {n}", "steps": 10}
                         for n in range(1, 201)])
    done = subprocess.run(
        [SDXL, "--endpoint", served.url, "--model-id", SDXL_MODEL_ID, "batch", str(batch),
         "--out-dir", "out", "--concurrency", "48", "--max-attempts", "12"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "done 200, skipped (already done) 0, failed 0" in done.stdout

    entries = served.journal()
    throttled = [e for e in entries if e["outcome"] == "ThrottlingException"]
    succeeded = [e for e in entries if e["status"] == 200]
    assert len(throttled) > 40  # about a third of the calls: retries were exercised
    assert len(succeeded) == 200

    records = ok_records(tmp_path / "out")
    assert sorted(records) == list(range(1, 201))
    assert {r.request_id for r in records.values()} == {e["request_id"] for e in succeeded}
    for line, record in records.items():
        assert record.file == f"{line:04d}.png"
        params = read_parameters(tmp_path / "out" / record.file)
        assert params["prompt"] == f"prompt {line}"
        assert params["seed"] == str(record.seed)
        assert record.finish_reason == "SUCCESS"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [f"{n:04d}.png" for n in range(1, 201)] + ["manifest.jsonl"]
    )


def test_bad_lines_are_reported_recorded_and_skipped(server: MockServer, in_tmp: Path) -> None:
    batch = in_tmp / "b.jsonl"
    batch.write_text("\n".join([
        '"a lighthouse"',
        '{"prompt": "a fox", "negative": ["blur", "text"], "size": "1152x896", "seed": 7}',
        "",  # blank lines are skipped, and still counted for line numbers
        '{"prompt": "x", "colour": "red"}',
        '{"prompt": "x", "steps": 5}',
        "not json",
        '{"prompt": "x", "step_schedule_start": 0.5}',
        '{"prompt": "x", "negative": "fog", "style": "anime"}',
    ]) + "\n")
    result = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "out")
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert f"{batch}:4: bad line, skipped: unknown key colour" in result.stderr
    assert f"{batch}:5: bad line, skipped: steps: 5 is not in the range 10<=x<=150" \
        in result.stderr
    assert f"{batch}:6: bad line, skipped: not valid JSON" in result.stderr
    assert f"{batch}:7: bad line, skipped: Malformed input request: #: property [init_image]" \
        in result.stderr
    assert "done 3, skipped (already done) 0, failed 0, bad lines 4" in result.stdout

    assert sorted(ok_records(in_tmp / "out")) == [1, 2, 8]
    latest = {r.line: r for r in read_records(in_tmp / "out" / "manifest.jsonl")}
    assert all(latest[n].error.startswith("bad line: ") for n in (4, 5, 6, 7))  # type: ignore[union-attr]
    bodies = {e.body["text_prompts"][0]["text"]: e.body for e in successes(server)}
    assert bodies["a fox"]["text_prompts"][1:] == [
        {"text": "blur", "weight": -1}, {"text": "text", "weight": -1}
    ]
    assert (bodies["a fox"]["width"], bodies["a fox"]["height"]) == (1152, 896)
    assert bodies["x"]["text_prompts"][1] == {"text": "fog", "weight": -1}
    assert bodies["x"]["style_preset"] == "anime"


def test_rerun_of_a_finished_batch_sends_nothing_and_touches_nothing(
    server: MockServer, in_tmp: Path
) -> None:
    batch = write_lines(in_tmp / "b.jsonl", ["one", "two", "three"])
    first = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "out")
    assert first.exit_code == 0, first.output
    before = {p.name: p.stat() for p in (in_tmp / "out").glob("*.png")}
    calls = len(server.journal)
    again = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "out")
    assert again.exit_code == 0, again.output
    assert "done 0, skipped (already done) 3" in again.stdout
    assert len(server.journal) == calls
    after = {p.name: p.stat() for p in (in_tmp / "out").glob("*.png")}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in before.items()} == {
        n: (s.st_ino, s.st_mtime_ns) for n, s in after.items()
    }


def test_a_deleted_image_is_made_again(server: MockServer, in_tmp: Path) -> None:
    batch = write_lines(in_tmp / "b.jsonl", [{"prompt": "one", "seed": 1}, "two"])
    assert sdxl("--endpoint", server.endpoint_url, "batch", str(batch)).exit_code == 0
    out = in_tmp / "out" / "b"  # the default out dir: out/<file stem>
    (out / "0001.png").unlink()
    again = sdxl("--endpoint", server.endpoint_url, "batch", str(batch))
    assert again.exit_code == 0, again.output
    assert "done 1, skipped (already done) 1" in again.stdout
    assert read_parameters(out / "0001.png")["seed"] == "1"


def test_failed_requests_are_recorded_and_retried_by_a_rerun(
    server: MockServer, in_tmp: Path
) -> None:
    server.faults.add(FaultRule(prompt="unlucky", error="ServiceQuotaExceededException",
                                times=1))
    batch = write_lines(in_tmp / "b.jsonl", ["fine", "unlucky"])
    first = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "out")
    assert first.exit_code == ExitCode.BATCH_INCOMPLETE
    assert f"{batch}:2: failed: Bedrock refused: ServiceQuotaExceededException" in first.stderr
    assert sorted(ok_records(in_tmp / "out")) == [1]
    second = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "out")
    assert second.exit_code == 0, second.output
    assert "done 1, skipped (already done) 1" in second.stdout
    assert sorted(ok_records(in_tmp / "out")) == [1, 2]


def test_dry_run_sends_nothing_and_writes_nothing(server: MockServer, in_tmp: Path) -> None:
    batch = write_lines(in_tmp / "b.jsonl", ["one", {"prompt": "two", "seed": 5}, {"x": 1}])
    result = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--dry-run")
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE  # a bad line
    planned = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["line"], p["file"]) for p in planned] == [(1, "0001.png"), (2, "0002.png")]
    assert planned[1]["body"] == {"text_prompts": [{"text": "two"}], "seed": 5}
    assert "nothing sent" in result.stderr
    assert len(server.journal) == 0
    assert not (in_tmp / "out").exists()


def test_default_endpoint_is_the_mock(in_tmp: Path) -> None:
    batch = write_lines(in_tmp / "b.jsonl", ["one", "two"])
    result = sdxl("batch", str(batch), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["done"], summary["failed"], summary["placeholder"]) == (2, 0, True)
    assert "endpoint: mock" in result.stderr


def test_unreadable_batch_file(in_tmp: Path) -> None:
    result = sdxl("batch", "missing.jsonl")
    assert result.exit_code == ExitCode.INPUT_UNREADABLE
    assert "cannot read missing.jsonl" in result.stderr


def test_manifest_survives_a_record_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    path.write_text(Record(1, ok=True, file="0001.png").to_json() + '\n{"line": 2, "ok": tr')
    (tmp_path / "0001.png").write_bytes(b"png")
    with Manifest(tmp_path) as manifest:
        assert manifest.is_done(1)
        assert not manifest.is_done(2)
        manifest.append(Record(2, ok=True, file="0002.png"))
    assert [r.line for r in read_records(path)] == [1, 2]


# --- interruptions of the installed command ------------------------------------------------


def _default_sigint() -> None:
    # A test run started in the background (`make test &`) inherits SIGINT ignored, and Python
    # then raises no KeyboardInterrupt; the batch must see Ctrl-C as a terminal would send it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_batch(batch: Path, served: ServedMock, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SDXL, "batch", str(batch), "--out-dir", "out", "--concurrency", "4"],
        env={**os.environ, "SDXL_ENDPOINT": served.url}, cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint,
    )


def wait_for_records(out_dir: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(ok_records(out_dir)) < count:
        assert process.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def finished_images(out_dir: Path) -> dict[str, tuple[int, int]]:
    """Images done by the manifest's definition, with inode and mtime."""
    names = [r.file for r in ok_records(out_dir).values() if r.file]
    return {
        name: (stat.st_ino, stat.st_mtime_ns)
        for name in names
        if (out_dir / name).is_file() and (stat := (out_dir / name).stat())
    }


def settled_successes(served: ServedMock) -> int:
    """Successful calls, once requests a killed client left in flight have been answered
    (a call is journaled when it ends; one the kill cut mid-body ends as ClientDisconnected,
    with no status, since no answer was sent)."""
    deadline = time.monotonic() + 30
    seen = -1
    while True:
        entries = served.journal()
        count = sum(1 for e in entries if e["status"] == 200)
        if count == seen:
            return count
        assert time.monotonic() < deadline
        seen = count
        time.sleep(0.3)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupted_batch_resumes_without_redoing_finished_lines(
    how: str, served: ServedMock, tmp_path: Path
) -> None:
    # Slow enough (60 lines, 4 at a time: over 2 s) that the signal lands midway even on a
    # loaded machine.
    served.add_faults({"latency_ms": 150})
    total = 60
    batch = write_lines(tmp_path / "b.jsonl", [f"prompt {n}" for n in range(1, total + 1)])
    out = tmp_path / "out"
    process = start_batch(batch, served, tmp_path)
    try:
        wait_for_records(out, 8, process)
        process.send_signal(getattr(signal, how))
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if how == "SIGINT":
        assert process.returncode == ExitCode.INTERRUPTED
        assert "re-run the same command to resume" in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    finished = finished_images(out)
    assert 8 <= len(finished) < total
    for name in os.listdir(out):  # never a truncated image
        if name.endswith(".png"):
            with Image.open(out / name) as image:
                image.verify()
    calls_before = settled_successes(served)

    resumed = subprocess.run([SDXL, "--endpoint", served.url, "batch", str(batch),
                              "--out-dir", "out"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped (already done) {len(finished)}" in resumed.stdout
    assert sorted(ok_records(out)) == list(range(1, total + 1))
    # Only the unfinished lines were sent again, and no finished image was rewritten.
    assert settled_successes(served) - calls_before == total - len(finished)
    after = finished_images(out)
    assert {name: after[name] for name in finished} == finished
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


def test_filtered_lines_fail_and_keep_their_image_only_when_asked(
    server: MockServer, in_tmp: Path
) -> None:
    server.faults.add(FaultRule(prompt="risky", finish_reason="CONTENT_FILTERED"))
    batch = write_lines(in_tmp / "b.jsonl", ["fine", "risky"])
    plain = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "a")
    assert plain.exit_code == ExitCode.BATCH_INCOMPLETE
    assert f"{batch}:2: failed: the image was content filtered" in plain.stderr
    assert not (in_tmp / "a" / "0002.png").exists()
    kept = sdxl("--endpoint", server.endpoint_url, "batch", str(batch), "--out-dir", "b",
                "--keep-filtered")
    assert kept.exit_code == ExitCode.BATCH_INCOMPLETE
    assert (in_tmp / "b" / "0002.png").is_file()
    record = {r.line: r for r in read_records(in_tmp / "b" / "manifest.jsonl")}[2]
    assert (record.ok, record.finish_reason, record.file) == (False, "CONTENT_FILTERED",
                                                              "0002.png")
