"""Attacks through ``sdxl batch`` (issue 18): what a careless batch file does to the client.
The server is measured as for every attack, but the figures that matter are the client's:
each attack runs the ``sdxl`` of the tree under attack against the server and notes the
client's peak RSS, how it ended, and what it sent and saved.

The client runs with its address space capped (:data:`CLIENT_ADDRESS_SPACE`), so code that
reads ``/dev/zero`` without end stops with a MemoryError there instead of taking the
machine's memory; a client still running at the attack's deadline is killed."""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from bench.attacks.calls import call
from bench.attacks.harness import Attack, Siege
from bench.attacks.target import Source
from bench.soak import proc_status

INPAINT = "us.stability.stable-image-inpaint-v1:0"
PROBE_PROMPT = "probe"  # the harness's normal calls say it (bench.attacks.probe)
CLIENT_ADDRESS_SPACE = 4 << 30
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ClientRun:
    exit: int | None  # None: killed at the deadline
    seconds: float
    peak_rss_mib: float
    last_error_line: str

    def describe(self) -> str:
        ended = "killed at the deadline" if self.exit is None else f"exit {self.exit}"
        said = f"; stderr ends: {self.last_error_line[:140]}" if self.last_error_line else ""
        return f"{ended} after {self.seconds:.1f} s, peak RSS {self.peak_rss_mib:.0f} MiB{said}"


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLIENT_ADDRESS_SPACE, CLIENT_ADDRESS_SPACE))


def run_client(siege: Siege, args: Sequence[str], name: str) -> ClientRun:
    """``sdxl --endpoint <server> ARGS`` from the tree under attack, in the work folder,
    until it exits or the attack's deadline; its peak RSS from /proc (VmHWM)."""
    source = siege.source or Source(sys.executable)
    out, err = siege.work / f"{name}.out", siege.work / f"{name}.err"
    started, peak = time.monotonic(), 0
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [source.python, "-m", "sdxl_adapter", "--endpoint", siege.url, *args],
            cwd=siege.work, env=source.environment(), stdout=stdout, stderr=stderr,
            preexec_fn=_cap_address_space)
        try:
            while process.poll() is None and siege.running():
                with contextlib.suppress(OSError, RuntimeError):  # between exit and reaping
                    peak = max(peak, proc_status(process.pid, "VmHWM"))
                time.sleep(POLL_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    ended = process.returncode if process.returncode >= 0 else None
    lines = err.read_text(errors="replace").strip().splitlines()
    return ClientRun(ended, time.monotonic() - started, peak / 1024,
                     lines[-1] if lines else "")


def answered_calls(siege: Siege) -> int:
    """The invokes the server answered with an image so far (its journal), the harness's
    own normal calls left out."""
    answer = call(siege.address, "GET", "/_mock/journal", timeout=10)
    if answer.status != 200:
        return -1
    entries: list[dict[str, Any]] = json.loads(answer.body)["entries"]
    return sum(1 for entry in entries
               if entry.get("status") == 200 and PROBE_PROMPT not in json.dumps(entry["body"]))


def _write_lines(path: Path, lines: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _noise_jpeg(path: Path, size: tuple[int, int]) -> Path:
    draw = random.Random(5)
    pixels = bytes(draw.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    Image.frombytes("RGB", size, pixels).save(path, format="JPEG", quality=95)
    return path


def big_images_dry_run(siege: Siege, lines: int = 100) -> None:
    """``--dry-run`` of ``lines`` lines naming one ~4.9 MB JPEG (Stable Image Inpaint)."""
    photo = _noise_jpeg(siege.work / "photo.jpg", (2500, 1680))
    siege.note("image", f"{photo.stat().st_size / 1e6:.1f} MB JPEG, named by {lines} lines")
    batch = _write_lines(siege.work / "big.jsonl",
                         [{"prompt": f"a red door {n}", "image": "photo.jpg"}
                          for n in range(lines)])
    run = run_client(siege, ["--model-id", INPAINT, "batch", batch.name, "--dry-run"], "big")
    siege.note("sdxl batch --dry-run", run.describe())
    printed = (siege.work / "big.out").read_text(errors="replace").count('"line"')
    siege.note("lines checked and printed", printed)


def _door_lines(siege: Siege, first_image: str) -> Path:
    Image.new("RGB", (512, 384), (90, 120, 200)).save(siege.work / "house.png")
    return _write_lines(siege.work / "doors.jsonl",
                        [{"prompt": "a red door", "image": first_image},
                         {"prompt": "a blue door", "image": "house.png"}])


def dev_zero_image(siege: Siege) -> None:
    """A line whose image is ``/dev/zero``, then a good line; a real run."""
    batch = _door_lines(siege, "/dev/zero")
    run = run_client(siege, ["--model-id", INPAINT, "batch", batch.name, "--out-dir", "out"],
                     "zero")
    siege.note("sdxl batch", run.describe())
    siege.note("images answered by the server", answered_calls(siege))


def fifo_image(siege: Siege) -> None:
    """A line whose image is a FIFO nobody writes to, then a good line; a real run."""
    os.mkfifo(siege.work / "pipe.png")
    batch = _door_lines(siege, "pipe.png")
    run = run_client(siege, ["--model-id", INPAINT, "batch", batch.name, "--out-dir", "out"],
                     "fifo")
    siege.note("sdxl batch", run.describe())
    siege.note("images answered by the server", answered_calls(siege))


def lone_surrogate(siege: Siege, runs: int = 3) -> None:
    """20 prompts, the second holding a lone surrogate (valid JSON); the same batch run
    ``runs`` times, as a user re-runs an incomplete one."""
    lines: list[object] = [f"prompt {n}" for n in range(1, 21)]
    lines[1] = {"prompt": "bad \ud800 line"}
    batch = _write_lines(siege.work / "odd.jsonl", lines)
    for number in range(1, runs + 1):
        run = run_client(siege, ["batch", batch.name, "--out-dir", "out"], f"odd{number}")
        images = len(list((siege.work / "out").glob("*.png")))
        siege.note(f"run {number}", f"{run.describe()}; calls answered so far "
                                    f"{answered_calls(siege)}, images {images} of 20")


ATTACKS = (
    Attack("batch-big-images", "sdxl batch", "--dry-run of 100 lines naming one 4.9 MB "
           "JPEG", big_images_dry_run, seconds=120),
    Attack("batch-dev-zero", "sdxl batch", "a line whose image is /dev/zero, then a good "
           "line", dev_zero_image, seconds=30),
    Attack("batch-fifo", "sdxl batch", "a line whose image is a FIFO nobody writes to, then "
           "a good line", fifo_image, seconds=15),
    Attack("batch-lone-surrogate", "sdxl batch", "20 prompts, one with a lone surrogate; "
           "the batch run 3 times", lone_surrogate, seconds=60),
)
