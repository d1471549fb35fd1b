"""``sdxl batch`` reads a line's images when that line's turn comes, one line's at a time,
and only from regular files that could ever be sent: a FIFO, a device, a directory or a file
larger than any request body is a bad line with its reason, found without waiting on it or
reading it, and the batch goes on."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from mock_bedrock.doors.server import MockServer
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.images import MAX_IMAGE_FILE_BYTES
from sdxl_adapter.manifest import MANIFEST_NAME, read_records
from tests.support.images import image_bytes

INPAINT = "us.stability.stable-image-inpaint-v1:0"
SDXL = str(Path(sys.executable).with_name("sdxl"))


def noise_png(path: Path, size: tuple[int, int]) -> Path:
    """A PNG that does not compress: its file is about 3 bytes a pixel."""
    draw = random.Random(7)
    pixels = bytes(draw.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    Image.frombytes("RGB", size, pixels).save(path, format="PNG")
    return path


def test_files_that_cannot_be_images_are_bad_lines_and_the_batch_goes_on(
    server: MockServer, tmp_path: Path
) -> None:
    (tmp_path / "house.png").write_bytes(image_bytes((512, 384)))
    os.mkfifo(tmp_path / "pipe.png")  # nobody writes to it: opening it to read would wait
    (tmp_path / "folder.png").mkdir()
    with (tmp_path / "huge.png").open("wb") as huge:  # sparse: no disk space taken
        huge.truncate(MAX_IMAGE_FILE_BYTES + 1)
    lines = [{"prompt": "a red door", "image": name} for name in
             ("pipe.png", "/dev/zero", "folder.png", "huge.png", "house.png")]
    batch = tmp_path / "doors.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = subprocess.run(
        [SDXL, "--endpoint", server.endpoint_url, "--model-id", INPAINT, "batch", str(batch),
         "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == ExitCode.BATCH_INCOMPLETE, done.stderr
    bad = {line.split(": bad line, skipped: ")[0]: line.split(": bad line, skipped: ")[1]
           for line in done.stderr.splitlines() if ": bad line, skipped: " in line}
    assert bad == {
        f"{batch}:1": f"cannot read {tmp_path / 'pipe.png'}: not a regular file (a FIFO)",
        f"{batch}:2": "cannot read /dev/zero: not a regular file (a character device)",
        f"{batch}:3": f"image: File '{tmp_path / 'folder.png'}' is a directory.",
        f"{batch}:4": f"cannot read {tmp_path / 'huge.png'}: larger than any request body "
                      f"the service takes ({MAX_IMAGE_FILE_BYTES:,} bytes)",
    }
    assert "done 1, skipped (already done) 0, failed 0, bad lines 4" in done.stdout
    assert [p.name for p in (tmp_path / "out").glob("*.png")] == ["0005.png"]
    records = {r.line: r for r in read_records(tmp_path / "out" / MANIFEST_NAME)}
    assert [n for n, r in sorted(records.items()) if not r.ok] == [1, 2, 3, 4]
    assert len([e for e in server.journal.entries() if e.status == 200]) == 1


def dry_run_peak(folder: Path, lines: int) -> int:
    """The most memory Python held while ``sdxl batch --dry-run`` checked ``lines`` lines
    naming photo.png."""
    batch = folder / f"{lines}.jsonl"
    batch.write_text("".join(json.dumps({"prompt": f"a door {n}", "image": "photo.png"}) + "\n"
                             for n in range(lines)))
    tracemalloc.start()
    try:
        result = CliRunner().invoke(main, ["--model-id", INPAINT, "batch", batch.name,
                                           "--dry-run"], catch_exceptions=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == lines  # every line checked and printed
    return peak


def test_a_dry_run_holds_one_lines_images_at_a_time(in_tmp: Path) -> None:
    size = noise_png(in_tmp / "photo.png", (640, 640)).stat().st_size  # about 1.2 MB
    one, sixteen = dry_run_peak(in_tmp, 1), dry_run_peak(in_tmp, 16)
    # Holding every line's image and its base64 would add 15 x 2.3 times the file.
    assert sixteen < one + 3 * size
