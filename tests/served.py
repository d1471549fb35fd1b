"""``mock-bedrock serve`` in a process of its own, for the tests that need the command
itself (its options, its output, its signals): started on a free loopback port, read up to
the lines wanted, and stopped by its PID however the test ends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

START_TIMEOUT = 30.0  # seconds for the lines wanted to appear
STOP_TIMEOUT = 30.0


@dataclass
class Served:
    url: str  # the first line the command prints
    lines: list[str]  # what it printed, up to the line wanted
    process: subprocess.Popen[str]


@contextmanager
def serving(*args: str, env: dict[str, str | None] | None = None,
            until: Callable[[list[str]], bool] = lambda lines: True,
            stderr: int | IO[Any] = subprocess.PIPE) -> Iterator[Served]:
    """``mock-bedrock serve --port 0 ARGS``, its output read until ``until(lines)`` holds
    (by default the first line, the URL). ``env`` changes this process's environment for
    it (None: the variable unset)."""
    changed = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_bedrock", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=stderr, text=True,
        env={name: value for name, value in changed.items() if value is not None})
    watchdog = threading.Timer(START_TIMEOUT, process.kill)  # one that never prints fails
    watchdog.start()
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not until(lines):
            line = process.stdout.readline()
            assert line, f"mock-bedrock serve ended after printing {lines}"
            lines.append(line.rstrip("\n"))
        watchdog.cancel()
        yield Served(lines[0], lines, process)
    finally:
        watchdog.cancel()
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within :data:`STOP_TIMEOUT`."""
    if process.poll() is None:
        process.terminate()
    try:
        process.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
