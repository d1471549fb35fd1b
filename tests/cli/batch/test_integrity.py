"""``sdxl batch`` never mixes up images: an edited line is made again with its old image
kept, a file no record made is never written over, two runs on one out dir cannot both
run, and a full disk stops the run with one line (exit 5) and a clean resume."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.faults import FaultRule
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.folder_lock import LOCK_NAME
from sdxl_adapter.manifest import MANIFEST_NAME, Record, read_records
from sdxl_adapter.models import SDXL_MODEL_ID
from sdxl_adapter.result import read_parameters
from tests.support.jsonl import write_lines

SDXL = str(Path(sys.executable).with_name("sdxl"))


def batch(server: MockServer, path: Path, *more: str) -> Result:
    return CliRunner().invoke(main, ["--endpoint", server.endpoint_url,
                                     "--model-id", SDXL_MODEL_ID,  # its bodies are read below
                                     "batch", str(path),
                                     "--out-dir", "out", *more], catch_exceptions=False)


def prompt_of(path: Path) -> str:
    return read_parameters(path)["prompt"]


def generated_prompts(server: MockServer) -> list[str]:
    return [e.body["text_prompts"][0]["text"] for e in server.journal.entries()
            if e.status == 200]


def latest_records(out: Path) -> dict[int, Record]:
    return {r.line: r for r in read_records(out / MANIFEST_NAME)}


def names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# --- an edited line ---------------------------------------------------------------------


def test_an_edited_line_is_made_again_and_its_old_image_kept(
    server: MockServer, in_tmp: Path
) -> None:
    lines = write_lines(in_tmp / "b.jsonl", ["a cat", "a dog", "a fox"])
    assert batch(server, lines).exit_code == 0
    out = in_tmp / "out"
    dog = (out / "0002.png").read_bytes()
    untouched = {n: (out / n).stat().st_mtime_ns for n in ("0001.png", "0003.png")}

    write_lines(lines, ["a cat", "a wolf", "a fox"])
    again = batch(server, lines)
    assert again.exit_code == 0, again.output
    assert "done 1, skipped (already done) 2" in again.stdout
    assert generated_prompts(server)[3:] == ["a wolf"]  # only the edited line was sent
    assert prompt_of(out / "0002.png") == "a wolf"
    kept = [n for n in names(out) if n.startswith("0002.prev-")]
    assert len(kept) == 1 and kept[0].endswith(".png")
    assert (out / kept[0]).read_bytes() == dog  # the old image, every byte
    assert (f"line 2 was edited since its image was made: regenerated 0002.png; the old "
            f"image is kept as {kept[0]}") in again.stdout
    assert {n: (out / n).stat().st_mtime_ns for n in untouched} == untouched
    record = latest_records(out)[2]
    assert (record.ok, record.file, record.previous) == (True, "0002.png", kept[0])

    # Edited again: the wolf is kept too, under its own request's name; nothing is lost.
    write_lines(lines, ["a cat", "a bear", "a fox"])
    third = batch(server, lines, "--json")
    assert third.exit_code == 0, third.output
    (replaced,) = json.loads(third.stdout)["replaced"]
    assert replaced["line"] == 2 and replaced["changed"] is True
    assert sorted(prompt_of(out / n) for n in names(out) if n.startswith("0002")) == [
        "a bear", "a dog", "a wolf"]

    # Unchanged now: nothing is sent, nothing moves.
    calls = len(server.journal)
    assert "done 0, skipped (already done) 3" in batch(server, lines).stdout
    assert len(server.journal) == calls


def test_a_dry_run_says_which_lines_changed(server: MockServer, in_tmp: Path) -> None:
    lines = write_lines(in_tmp / "b.jsonl", ["a cat", {"prompt": "a dog", "seed": 4}])
    assert batch(server, lines).exit_code == 0
    write_lines(lines, ["a cat", {"prompt": "a dog", "seed": 5}])  # only the seed changed
    dry = batch(server, lines, "--dry-run")
    assert dry.exit_code == 0, dry.output
    planned = [json.loads(line) for line in dry.stdout.splitlines()]
    assert [(p["line"], p.get("changed")) for p in planned] == [(2, True)]
    assert "1 of them edited since their image was made" in dry.stderr


def test_a_manifest_from_before_request_hashes_is_judged_by_the_images(
    server: MockServer, in_tmp: Path
) -> None:
    lines = write_lines(in_tmp / "b.jsonl",
                        ["a cat", {"prompt": "a dog", "seed": 3}, {"prompt": "a fox", "seed": 9}])
    assert batch(server, lines).exit_code == 0
    out = in_tmp / "out"
    manifest = out / MANIFEST_NAME
    # The manifest as the code before request hashes wrote it.
    old = [json.loads(text) for text in manifest.read_text().splitlines()]
    manifest.write_text("".join(
        json.dumps({k: v for k, v in r.items() if k != "request_sha256"}) + "\n" for r in old))

    calls = len(server.journal)
    same = batch(server, lines)
    assert same.exit_code == 0, same.output
    assert "done 0, skipped (already done) 3" in same.stdout  # trusted: their images agree
    assert len(server.journal) == calls

    write_lines(lines, ["a cat", {"prompt": "a dog", "seed": 4}, {"prompt": "a lynx", "seed": 9}])
    edited = batch(server, lines)
    assert edited.exit_code == 0, edited.output
    assert "done 2, skipped (already done) 1" in edited.stdout
    assert read_parameters(out / "0002.png")["seed"] == "4"
    assert prompt_of(out / "0003.png") == "a lynx"
    kept = {n[:4]: prompt_of(out / n) for n in names(out) if ".prev-" in n}
    assert kept == {"0002": "a dog", "0003": "a fox"}


def test_a_file_no_record_made_is_never_written_over(server: MockServer, in_tmp: Path) -> None:
    lines = write_lines(in_tmp / "b.jsonl", ["one", "two"])
    out = in_tmp / "out"
    out.mkdir()
    mine = b"not an image of this batch"
    (out / "0002.png").write_bytes(mine)
    result = batch(server, lines)
    assert result.exit_code == 0, result.output
    (kept,) = [n for n in names(out) if n.startswith("0002.prev-")]
    assert (out / kept).read_bytes() == mine
    assert prompt_of(out / "0002.png") == "two"
    assert f"line 2: 0002.png held an image not made for this line's request; it is kept as " \
        f"{kept}" in result.stdout


# --- two runs on one out dir ------------------------------------------------------------


def test_a_second_run_on_the_same_out_dir_is_refused(server: MockServer, in_tmp: Path) -> None:
    server.faults.add(FaultRule(latency_ms=100))  # 20 lines, 2 at a time: over 1 s
    lines = write_lines(in_tmp / "b.jsonl", [f"prompt {n}" for n in range(1, 21)])
    out = in_tmp / "out"
    first = subprocess.Popen(
        [SDXL, "--endpoint", server.endpoint_url, "--model-id", SDXL_MODEL_ID, "batch",
         str(lines), "--out-dir", "out", "--concurrency", "2"],
        cwd=in_tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / MANIFEST_NAME).is_file() or not latest_records(out):
            assert first.poll() is None, "the first run ended before the second could start"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = batch(server, lines)
        dry = batch(server, lines, "--dry-run")  # a dry run needs no lock
        _, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert second.exit_code == ExitCode.OUTPUT_BUSY
    assert second.stderr.strip() == (
        f"Error: out is in use by another sdxl batch run (pid {first.pid}): wait for it to "
        "finish, or choose another --out-dir")
    assert dry.exit_code == 0 and "dry run: nothing sent" in dry.stderr
    assert first.returncode == 0, stderr
    generated = generated_prompts(server)
    assert sorted(generated) == sorted(f"prompt {n}" for n in range(1, 21))  # each once
    assert names(out) == sorted([f"{n:04d}.png" for n in range(1, 21)] + [MANIFEST_NAME])
    assert not (out / LOCK_NAME).exists()


# --- a full disk ------------------------------------------------------------------------


class FullDisk:
    """``os.fsync`` as a disk that fills up: after ``images`` image files were synced,
    every sync fails with ENOSPC (the image's own record's too when ``with_record``)."""

    def __init__(self, manifest: Path, images: int, with_record: bool) -> None:
        self.manifest = manifest
        self.images_left = images
        self.with_record = with_record
        self.full = False
        self.real = os.fsync

    def fsync(self, fd: int) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.real(fd)
        is_manifest = self.manifest.exists() and os.path.samestat(os.fstat(fd),
                                                                  os.stat(self.manifest))
        if not is_manifest:
            self.images_left -= 1
            # The disk fills with this image: its record, or the next image, fails.
            self.full = self.images_left == 0 if self.with_record else self.images_left < 0
            if self.full and not self.with_record:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("fills_at", ["image", "record"])
def test_a_full_disk_stops_with_exit_5_and_the_rerun_completes(
    fills_at: str, server: MockServer, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = write_lines(in_tmp / "b.jsonl", [f"prompt {n}" for n in range(1, 7)])
    out = in_tmp / "out"
    disk = FullDisk(out / MANIFEST_NAME, images=3 if fills_at == "record" else 2,
                    with_record=fills_at == "record")
    monkeypatch.setattr(os, "fsync", disk.fsync)
    full = batch(server, lines, "--concurrency", "1")

    assert full.exit_code == ExitCode.OUTPUT_UNWRITABLE == 5
    failed_file = Path("out") / ("0003.png" if fills_at == "image" else MANIFEST_NAME)
    assert full.stderr.splitlines()[-1] == (
        f"Error: no space left on device writing {failed_file} (ENOSPC); free space and "
        "re-run the same command to resume")
    assert "Traceback" not in full.output
    assert len(generated_prompts(server)) == 3  # nothing more was sent after the failure
    assert not [n for n in names(out) if n.endswith(".tmp")]  # no half-written file
    if fills_at == "image":
        assert not (out / "0003.png").exists()
    done = {n for n, r in latest_records(out).items() if r.ok}
    assert done <= {1, 2, 3}

    monkeypatch.setattr(os, "fsync", disk.real)  # space freed
    resumed = batch(server, lines, "--concurrency", "1")
    assert resumed.exit_code == 0, resumed.output
    assert f"skipped (already done) {len(done)}" in resumed.stdout
    assert names(out) == sorted([f"{n:04d}.png" for n in range(1, 7)] + [MANIFEST_NAME])
    for n in range(1, 7):
        assert prompt_of(out / f"{n:04d}.png") == f"prompt {n}"
    assert sorted(n for n, r in latest_records(out).items() if r.ok) == list(range(1, 7))


def test_an_edited_line_meeting_a_full_disk_keeps_its_old_image(
    server: MockServer, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = write_lines(in_tmp / "b.jsonl", ["a cat", "a dog"])
    assert batch(server, lines).exit_code == 0
    out = in_tmp / "out"
    dog = (out / "0002.png").read_bytes()
    write_lines(lines, ["a cat", "a wolf"])
    disk = FullDisk(out / MANIFEST_NAME, images=0, with_record=False)
    monkeypatch.setattr(os, "fsync", disk.fsync)
    full = batch(server, lines)
    assert full.exit_code == ExitCode.OUTPUT_UNWRITABLE
    (kept,) = [n for n in names(out) if n.startswith("0002.prev-")]
    assert (out / kept).read_bytes() == dog
    assert (f"line 2: the image that was at 0002.png is kept as {kept}; the new one could "
            "not be written") in full.stdout

    monkeypatch.setattr(os, "fsync", disk.real)
    resumed = batch(server, lines)
    assert resumed.exit_code == 0, resumed.output
    assert prompt_of(out / "0002.png") == "a wolf"
    assert (out / kept).read_bytes() == dog
    assert names(out) == ["0001.png", "0002.png", kept, MANIFEST_NAME]


def test_a_record_with_a_key_a_later_version_adds_still_counts(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps({"line": 1, "ok": True, "file": "0001.png",
                                    "a_later_field": [1, 2]}) + "\n", encoding="utf-8")
    (record,) = read_records(manifest)
    assert (record.line, record.ok, record.file) == (1, True, "0001.png")  # old: skipped
