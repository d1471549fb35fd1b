"""``python -m bench.faultrun``: a batch through the ``sdxl`` CLI against a faulty server,
killed midway and resumed.

``mock-bedrock serve --faults FILE`` answers 5% of calls with 503 ServiceUnavailableException
and throttles 30% (seeded coins). ``sdxl batch`` runs 200 lines against it as a child
process, is SIGKILLed once when ~80 images exist, then the same command is run again until
it reports the batch complete. Checked afterwards: every line's image exists, decodes, and is
that line's (the placeholder's parameters carry the requested seed, which is the line
number); no image from before the kill was rewritten (inode, mtime, bytes); the manifest
has one success per line; the server generated each pre-kill image exactly once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from PIL import Image

from bench.soak import admin, mock_server_process
from mock_bedrock.placeholder import read_parameters
from sdxl_adapter.manifest import MANIFEST_NAME, read_records

THROTTLE_SHARE = 0.30
UNAVAILABLE_SHARE = 0.05
KILL_TIMEOUT = 600.0  # seconds to wait for the kill point before giving up
RUN_TIMEOUT = 900.0


def fault_rules(seed: int) -> list[dict[str, Any]]:
    """The rules, as ``--faults`` reads them. The first rule with an outcome decides a
    call, so the second one's chance is scaled to be its share of *all* calls."""
    return [
        {"name": "503 for 5%", "error": "ServiceUnavailableException",
         "probability": UNAVAILABLE_SHARE, "seed": seed},
        {"name": "throttle 30%", "error": "ThrottlingException",
         "probability": THROTTLE_SHARE / (1 - UNAVAILABLE_SHARE), "seed": seed + 1},
    ]


def batch_lines(count: int) -> list[str]:
    # The seed is the line number, so each image says which line it answers.
    return [json.dumps({"prompt": f"fault run, line {n}", "seed": n})
            for n in range(1, count + 1)]


def sdxl_command() -> str:
    beside = Path(sys.executable).with_name("sdxl")
    found = str(beside) if beside.exists() else shutil.which("sdxl")
    if found is None:
        raise click.ClickException("the sdxl command is not installed (pip install -e .)")
    return found


@dataclass(frozen=True)
class FileFacts:
    inode: int
    mtime_ns: int
    sha256: str
    line: int | None  # the requested seed the image carries: its line


def images_in(out_dir: Path) -> dict[str, FileFacts]:
    facts = {}
    for path in sorted(out_dir.glob("[!.]*.png")):
        stat, data = path.stat(), path.read_bytes()
        facts[path.name] = FileFacts(stat.st_ino, stat.st_mtime_ns,
                                     hashlib.sha256(data).hexdigest(),
                                     read_parameters(data).get("requested_seed"))
    return facts


def run_killed(command: list[str], out_dir: Path, kill_at: int, log: Path) -> tuple[int, float]:
    """Run the batch and SIGKILL it once ``kill_at`` images exist; returns the image count
    at the kill and the seconds it ran."""
    started = time.monotonic()
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=sink)
        try:
            while len(list(out_dir.glob("[!.]*.png"))) < kill_at:
                if process.poll() is not None:
                    raise click.ClickException(f"the batch ended ({process.returncode}) "
                                               f"before {kill_at} images existed; see {log}")
                if time.monotonic() - started > KILL_TIMEOUT:
                    raise click.ClickException(f"no {kill_at} images after {KILL_TIMEOUT} s")
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    return len(list(out_dir.glob("[!.]*.png"))), time.monotonic() - started


def run_to_end(command: list[str], log: Path, attempts: int) -> list[tuple[int, float]]:
    """Re-run the same command until it exits 0 (a line that ran out of retries makes it
    exit 1: re-running retries it); returns each run's exit code and seconds."""
    runs = []
    for _ in range(attempts):
        started = time.monotonic()
        with log.open("a") as sink:
            code = subprocess.run(command, stdout=sink, stderr=sink, timeout=RUN_TIMEOUT,
                                  check=False).returncode
        runs.append((code, time.monotonic() - started))
        if code == 0:
            break
    return runs


def check_images(out_dir: Path, count: int) -> list[str]:
    """Problems with the final images: missing, undecodable, or another line's."""
    problems = []
    for record_line, name in expected_files(out_dir).items():
        path = out_dir / name
        try:
            data = path.read_bytes()
            with Image.open(path) as image:
                image.load()
            seed = read_parameters(data).get("requested_seed")
        except (OSError, ValueError) as err:
            problems.append(f"{name}: {err}")
            continue
        if seed != record_line:
            problems.append(f"{name} (line {record_line}) carries the image of seed {seed}")
    if len(expected_files(out_dir)) != count:
        problems.append(f"{len(expected_files(out_dir))} lines recorded as done, not {count}")
    return problems


def expected_files(out_dir: Path) -> dict[int, str]:
    """Line -> file of each line whose latest manifest record is a success."""
    latest = {record.line: record for record in read_records(out_dir / MANIFEST_NAME)}
    return {line: r.file for line, r in latest.items() if r.ok and r.file}


def manifest_facts(out_dir: Path) -> dict[str, int]:
    path = out_dir / MANIFEST_NAME
    records = list(read_records(path))
    raw_lines = [t for t in path.read_text().splitlines() if t.strip()]
    successes = Counter(record.line for record in records if record.ok)
    return {
        "records": len(records),
        "unreadable lines (cut by the kill)": len(raw_lines) - len(records),
        "success records": sum(successes.values()),
        "lines with more than one success": sum(1 for n in successes.values() if n > 1),
        "failure records (retries ran out)": sum(1 for r in records if not r.ok),
    }


def journal_facts(url: str) -> tuple[Counter[int], Counter[str]]:
    """Successful generations per requested seed, and every call's outcome."""
    entries = json.loads(admin(url, "GET", "/_mock/journal"))["entries"]
    generated: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    for entry in entries:
        outcomes[f"{entry['status']} {entry['outcome']}"] += 1
        if entry["status"] == 200:
            generated[entry["body"]["seed"]] += 1
    return generated, outcomes


def server_exceptions(log: Path) -> Counter[str]:
    """The exception types of the tracebacks the server logged (its 500s say why)."""
    found: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith(" "):
            found[line.split(":", 1)[0].rsplit(".", 1)[-1]] += 1
            in_traceback = False
    return found


def fault_run(count: int, kill_at: int, concurrency: int, seed: int, work: Path) -> list[str]:
    """Run it; print the figures; return the problems found (none when all is well)."""
    out_dir, faults, lines = work / "out", work / "faults.json", work / "batch.jsonl"
    faults.write_text(json.dumps(fault_rules(seed)))
    lines.write_text("\n".join(batch_lines(count)) + "\n")
    with mock_server_process("--faults", str(faults), log=work / "server.log") as (_, url):
        command = [sdxl_command(), "--endpoint", url, "batch", str(lines), "--out-dir",
                   str(out_dir), "--concurrency", str(concurrency)]
        at_kill, first_seconds = run_killed(command, out_dir, kill_at, work / "run1.log")
        before = images_in(out_dir)
        runs = run_to_end(command, work / "run2.log", attempts=3)
        after = images_in(out_dir)
        generated, outcomes = journal_facts(url)
    problems = check_images(out_dir, count)
    rewritten = [name for name, facts in before.items() if after.get(name) != facts]
    problems += [f"{name} from before the kill was rewritten" for name in rewritten]
    regenerated = sorted(f.line for f in before.values() if f.line and generated[f.line] > 1)
    problems += [f"line {n}'s pre-kill image was generated again" for n in regenerated]
    stray = sorted(p.name for p in out_dir.iterdir() if p.name.startswith("."))
    problems += [f"stray temporary file {name}" for name in stray]
    manifest = manifest_facts(out_dir)
    if manifest["lines with more than one success"]:
        problems.append("a line was recorded as done twice")
    in_flight = sum(generated.values()) - count
    never = [n for n in range(1, count + 1) if not generated[n]]
    problems += [f"line {n} was never generated" for n in never]
    if in_flight > concurrency:
        # Only requests in flight at the kill may be generated twice: at most one a worker.
        problems.append(f"{in_flight} extra generations, more than {concurrency} in flight")
    calls = sum(outcomes.values())
    click.echo("\n".join([
        f"Fault run (`make faultrun`): {count} lines through `sdxl batch --concurrency "
        f"{concurrency}` against `mock-bedrock serve --faults` (503 for "
        f"{UNAVAILABLE_SHARE:.0%}, throttling for {THROTTLE_SHARE:.0%} of calls, seeded).",
        "",
        f"- SIGKILLed after {first_seconds:.1f} s with {at_kill} images written; re-run "
        + ", then ".join(f"exited {code} after {secs:.1f} s" for code, secs in runs) + ".",
        f"- Server calls: {calls:,}; "
        + ", ".join(f"{k}: {n}" for k, n in sorted(outcomes.items())) + ".",
        "- Server tracebacks: " + (", ".join(
            f"{name} x{n}" for name, n in sorted(server_exceptions(work / "server.log").items()))
            or "none") + ".",
        f"- Successful generations: {sum(generated.values())} for {count} lines "
        f"({in_flight} generated while the kill hit, never saved, redone by the re-run); "
        f"pre-kill images generated again: {len(regenerated)}.",
        f"- Images: {len(after)} files, {len(before)} from before the kill, "
        f"{len(before) - len(rewritten)} of them unchanged (inode, mtime, SHA-256).",
        "- Manifest: " + ", ".join(f"{k}: {v}" for k, v in manifest.items()) + ".",
        "- Problems: " + ("; ".join(problems) if problems else "none") + ".",
    ]))
    return problems


@click.command()
@click.option("--count", default=200, show_default=True, type=click.IntRange(min=2))
@click.option("--kill-at", default=80, show_default=True, type=click.IntRange(min=1),
              help="SIGKILL the first run once this many images exist.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=6, show_default=True, help="Seed of the fault coins.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Work in this directory and keep it (default: a temporary one).")
def main(count: int, kill_at: int, concurrency: int, seed: int, keep: Path | None) -> None:
    """Kill a faulty batch midway, resume it, and check nothing was lost or redone."""
    if kill_at >= count:
        raise click.BadParameter("must be below --count", param_hint="--kill-at")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        problems = fault_run(count, kill_at, concurrency, seed, keep)
    else:
        with tempfile.TemporaryDirectory(prefix="sdxl-faultrun-") as work:
            problems = fault_run(count, kill_at, concurrency, seed, Path(work))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
