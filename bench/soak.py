"""``python -m bench.soak``: a load run against ``mock-bedrock serve`` in its own process.

32 threads, each with its own keep-alive HTTP/1.1 connection (so 32 connections are open
at once), send a fixed plan of requests: valid invokes (repeats of a few bodies, as a test
suite sends them, and some never seen before), invalid bodies that must be refused with a
400 ValidationException, and response streams decoded with botocore's EventStreamBuffer.
It reports every unplanned outcome by kind, latency percentiles, throughput, and the
server's resident memory before and after. Bounded by count and by time; it stops the
server it started.

The clients are http.client, not boto3: boto3's per-call cost on a 2-core machine would
measure the clients, not the server.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from botocore.eventstream import EventStreamBuffer

from bedrock_contract import check_response
from bench.bodies import SDXL, SDXL_ID, distinct_bodies, encode, sizes, text_to_image

INVOKE_PATH = f"/model/{SDXL_ID}/invoke"
STREAM_PATH = f"/model/{SDXL_ID}/invoke-with-response-stream"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
STREAM_HEADERS = {"Content-Type": "application/json", "X-Amzn-Bedrock-Accept": "application/json"}
# Out of every 20 requests: 4 invalid, 4 streams, 1 body never sent before, 11 repeats.
MIX = ["invalid"] * 4 + ["stream"] * 4 + ["fresh"] + ["valid"] * 11
# Repeated bodies: fewer than the mock's result cache holds, as a test suite repeats a few.
REPEATED_BODIES = 16
STARTUP_TIMEOUT = 30.0


def invalid_bodies() -> list[bytes]:
    """Bodies the service refuses, each breaking one rule read from the schema."""
    allowed = sizes(SDXL)
    wrong_pair = (allowed[1][0], allowed[2][1])
    valid = encode(text_to_image())
    return [
        encode({**text_to_image(), "steps": SDXL.field("steps")["maximum"] + 1}),
        encode({**text_to_image(), "cfg_scale": SDXL.field("cfg_scale")["minimum"] - 1}),
        encode(text_to_image(size=wrong_pair)),
        encode({**text_to_image(), "no_such_field": True}),
        encode(SDXL.prompts.body_fields([], [])),
        valid[: len(valid) // 2],  # cut short: not JSON
    ]


@dataclass
class Tally:
    """What the threads saw; each thread keeps its own and they are merged at the end."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    stream_frames: int = 0

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.outcomes.update(other.outcomes)
        self.stream_frames += other.stream_frames


class Plan:
    """The requests in order; threads take the next index under a lock."""

    def __init__(self, total: int, deadline: float, start: int = 0) -> None:
        self.total = start + total
        self.deadline = deadline
        self._next = start
        self._lock = threading.Lock()
        self.repeated = distinct_bodies(REPEATED_BODIES)
        self.invalid = invalid_bodies()
        self.timed_out = False

    def take(self) -> tuple[str, bytes] | None:
        with self._lock:
            if self._next >= self.total:
                return None
            if time.monotonic() > self.deadline:
                self.timed_out = True
                return None
            index, self._next = self._next, self._next + 1
        kind = MIX[index % len(MIX)]
        if kind == "invalid":
            return kind, self.invalid[index % len(self.invalid)]
        if kind == "fresh":
            size = sizes(SDXL)[index % len(sizes(SDXL))]
            return kind, encode(text_to_image(SDXL, size, seed=index + 1, prompt=f"soak #{index}"))
        return kind, self.repeated[index % len(self.repeated)]


def _outcome(kind: str, status: int, headers: http.client.HTTPMessage, data: bytes,
             tally: Tally) -> str:
    """``ok`` when the answer is the planned one, else what went wrong."""
    if kind == "invalid":
        error_type = headers.get("x-amzn-ErrorType", "")
        return "ok" if status == 400 and error_type.startswith("ValidationException:") \
            else f"invalid answered {status} {error_type or '(no error type)'}"
    if status != 200:
        return f"{kind} answered {status} {headers.get('x-amzn-ErrorType', '')}"
    if kind == "stream":
        buffer = EventStreamBuffer()
        buffer.add_data(data)
        parts = []
        for message in buffer:
            if message.headers.get(":event-type") != "chunk":
                return f"stream carried {message.headers.get(':event-type')!r}"
            tally.stream_frames += 1
            parts.append(json.loads(message.payload)["bytes"])
        data = b"".join(base64.b64decode(part) for part in parts)
    try:
        check_response(SDXL, data)
    except ValueError as err:
        return f"{kind} body broke the contract: {str(err)[:80]}"
    return "ok"


def _client_thread(host: str, port: int, plan: Plan, tally: Tally, timeout: float) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        while (job := plan.take()) is not None:
            kind, body = job
            path, headers = (STREAM_PATH, STREAM_HEADERS) if kind == "stream" else \
                (INVOKE_PATH, JSON_HEADERS)
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as err:
                tally.outcomes[f"{kind}: {type(err).__name__}"] += 1
                connection.close()  # http.client reconnects on the next request
                continue
            tally.latencies.setdefault(kind, []).append(time.perf_counter() - started)
            outcome = _outcome(kind, response.status, response.headers, data, tally)
            tally.outcomes[outcome if outcome != "ok" else f"{kind}: ok"] += 1
    finally:
        connection.close()


def proc_status(pid: int, key: str) -> int:
    """A number from /proc/<pid>/status (Linux): VmRSS and VmHWM in KiB, Threads a count."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    raise RuntimeError(f"no {key} for process {pid}")


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    return proc_status(pid, "VmRSS")


@contextmanager
def mock_server_process(
    *options: str, log: Path | None = None, python: str = sys.executable, **popen: Any
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``mock-bedrock serve --port 0 [options]`` in a child process; yields it and its URL.
    Its stderr goes to ``log`` (else nowhere: an unread pipe would fill and stall it).
    ``python`` and ``popen`` (``env``, ``cwd``) choose which mock-bedrock runs."""
    with (log.open("w") if log else open(os.devnull, "w")) as errors:
        process = subprocess.Popen(
            [python, "-m", "mock_bedrock.cli", "serve", "--port", "0", *options],
            stdout=subprocess.PIPE, stderr=errors, text=True, **popen,
        )
        try:
            yield process, _first_line(process, STARTUP_TIMEOUT)
        finally:
            stop_process(process)


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    # readline() has no timeout of its own, hence the thread.
    found: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not found or not found[0].startswith("http://"):
        raise RuntimeError(f"mock-bedrock serve did not print its URL within {timeout} s")
    return found[0].strip()


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGTERM (the CLI stops cleanly on it), then SIGKILL if it does not."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@dataclass(frozen=True)
class Report:
    requests: int
    connections: int
    seconds: float
    tally: Tally
    rss_kib: list[tuple[str, int]]  # (when, server RSS)
    timed_out: bool

    def percentile_ms(self, values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1e3

    def markdown(self) -> str:
        every = [v for values in self.tally.latencies.values() for v in values]
        unplanned = {k: n for k, n in self.tally.outcomes.items() if not k.endswith(": ok")}
        lines = [
            f"Load run (`make soak`): {self.requests:,} requests over {self.connections} "
            f"concurrent keep-alive connections to `mock-bedrock serve` in its own process, "
            f"in {self.seconds:.1f} s ({self.requests / self.seconds:,.0f} requests/s)"
            + (" - stopped by the time limit" if self.timed_out else "") + ".",
            "",
            "| requests | count | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for kind in ("valid", "fresh", "stream", "invalid"):
            values = self.tally.latencies.get(kind, [])
            if len(values) >= 2:
                lines.append(f"| {kind} | {len(values):,} | "
                             f"{self.percentile_ms(values, 50):.2f} | "
                             f"{self.percentile_ms(values, 99):.2f} |")
        lines.append(f"| all | {len(every):,} | {self.percentile_ms(every, 50):.2f} | "
                     f"{self.percentile_ms(every, 99):.2f} |")
        lines += [
            "",
            "valid: repeats of 16 bodies; fresh: a body never sent before (uncached render); "
            "stream: invoke-with-response-stream, decoded with botocore's EventStreamBuffer "
            f"({self.tally.stream_frames:,} chunk frames); invalid: refused with 400 "
            "ValidationException, as planned.",
            "",
            "Unplanned outcomes: " + (", ".join(f"{k}: {n}" for k, n in sorted(unplanned.items()))
                                      or "none") + ".",
            "",
            "Server RSS: " + ", ".join(f"{kib / 1024:.1f} MiB {when}"
                                       for when, kib in self.rss_kib) + ".",
            "",
            f"Clients and server shared {os.cpu_count()} cores; load average at the end "
            f"{os.getloadavg()[0]:.1f}.",
        ]
        return "\n".join(lines)


def admin(url: str, method: str, path: str) -> bytes:
    """One call to the mock's admin endpoints (``/_mock/...``); returns the body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path)
        return connection.getresponse().read()
    finally:
        connection.close()


def _round(host: str, port: int, plan: Plan, connections: int, timeout: float) -> Tally:
    tallies = [Tally() for _ in range(connections)]
    threads = [
        threading.Thread(target=_client_thread, args=(host, port, plan, tally, timeout),
                         name=f"soak-client-{i}")
        for i, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def soak(requests: int, connections: int, rounds: int, max_seconds: float,
         timeout: float) -> Report:
    """``requests`` split into ``rounds``; the journal is cleared after each round, so
    memory that keeps growing round after round is not the journal's."""
    with mock_server_process() as (process, url):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        rss = [("at start", rss_kib(process.pid))]
        _client_thread(host, int(port), Plan(2 * len(MIX), time.monotonic() + 60), Tally(),
                       timeout)
        admin(url, "DELETE", "/_mock/journal")
        rss.append(("after warm-up", rss_kib(process.pid)))
        deadline = time.monotonic() + max_seconds
        total, seconds, timed_out = Tally(), 0.0, False
        for number in range(rounds):
            share = requests // rounds + (1 if number < requests % rounds else 0)
            plan = Plan(share, deadline, start=sum(total.outcomes.values()))
            started = time.perf_counter()
            total.merge(_round(host, int(port), plan, connections, timeout))
            seconds += time.perf_counter() - started
            timed_out = timed_out or plan.timed_out
            done = sum(total.outcomes.values())
            rss.append((f"after {done:,} requests", rss_kib(process.pid)))
            admin(url, "DELETE", "/_mock/journal")
            rss.append(("with the journal cleared", rss_kib(process.pid)))
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} during the run")
    return Report(sum(total.outcomes.values()), connections, seconds, total, rss, timed_out)


@click.command()
@click.option("--requests", default=20_000, show_default=True, type=click.IntRange(min=20))
@click.option("--connections", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--rounds", default=4, show_default=True, type=click.IntRange(min=1),
              help="Split the requests into rounds, clearing the journal between them.")
@click.option("--max-seconds", default=600.0, show_default=True,
              help="Stop sending after this long, done or not.")
@click.option("--timeout", default=60.0, show_default=True,
              help="Per-request socket timeout in seconds.")
def main(requests: int, connections: int, rounds: int, max_seconds: float,
         timeout: float) -> None:
    """Load the server mock with a mix of valid, invalid and streaming requests."""
    report = soak(requests, connections, rounds, max_seconds, timeout)
    click.echo(report.markdown())
    unplanned = [k for k in report.tally.outcomes if not k.endswith(": ok")]
    if unplanned or report.timed_out:
        sys.exit(1)


if __name__ == "__main__":
    main()
