"""``mock-bedrock serve`` in a process of its own, for the tests that need the command
itself (its options, its output, its signals) or a server on another core: started on a free
loopback port, read up to the lines wanted, and stopped by its PID however the test ends. The
one place the tests start that command and stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from tests.support.paths import BIN

START_TIMEOUT = 30.0  # seconds for the lines wanted to appear
STOP_TIMEOUT = 30.0


@dataclass
class Served:
    url: str  # the first line the command prints
    lines: list[str]  # what it printed, up to the line wanted
    process: subprocess.Popen[str]

    def stop(self, stop_signal: int = signal.SIGTERM) -> tuple[int, str, str]:
        """Send ``stop_signal`` and wait for the end: the exit status, the rest of what it
        printed, and its standard error (empty when the test did not ask for it piped)."""
        if self.process.poll() is None:
            self.process.send_signal(stop_signal)
        out, err = self.process.communicate(timeout=STOP_TIMEOUT)
        return self.process.returncode, out or "", err or ""


@contextmanager
def serving(*args: str, env: dict[str, str | None] | None = None,
            until: Callable[[list[str]], bool] = lambda lines: True,
            stderr: int | IO[Any] = subprocess.PIPE, script: bool = False,
            base_env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``mock-bedrock serve --port 0 ARGS``, its output read until ``until(lines)`` holds
    (by default the first line, the URL). ``env`` changes this process's environment for
    it (None: the variable unset); ``base_env`` replaces this process's environment as the one
    changed. ``script``: run the installed ``mock-bedrock`` command,
    as a user does, rather than ``python -m mock_bedrock``."""
    changed = {**(os.environ if base_env is None else base_env), **(env or {})}
    program = [str(BIN / "mock-bedrock")] if script else [sys.executable, "-m", "mock_bedrock"]
    process = subprocess.Popen(
        [*program, "serve", "--port", "0", *args],
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
    elif process.stdout is None or process.stdout.closed:
        return  # ended and read to its end already (Served.stop)
    try:
        process.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


class ServedMock:
    """A served mock driven through its admin endpoints (faults, journal) by its URL."""

    def __init__(self, url: str) -> None:
        assert url.startswith("http://127.0.0.1:"), url
        self.url = url

    def _admin(self, method: str, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/_mock/{path}", body, headers,
                                         method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def add_faults(self, *rules: dict[str, Any]) -> None:
        self._admin("POST", "faults", list(rules))

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._admin("GET", "journal")["entries"]
        return entries

    def clear(self) -> None:
        self._admin("DELETE", "faults")
        self._admin("DELETE", "journal")
