"""The server under attack: ``mock-bedrock serve`` in its own process, from this install or
from another source tree, and a watch on its memory, threads and CPU (Linux /proc)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.soak import mock_server_process, proc_status, rss_kib
from mock_bedrock.client_setup import PLACEHOLDER_CREDENTIALS, REGION

# Most Linux desktops and CI runners give a process 1,024 descriptors (ulimit -n); the
# server gets that soft limit, whatever this machine's is, so the connection attacks meet
# what a user's mock would. Its hard limit is left alone: a server may raise its own.
USUAL_NOFILE = 1024
# What the server's AWS configuration is: placeholder credentials and no file or instance
# metadata to find real ones in, so --record can only ever sign with these.
SERVER_AWS_ENVIRONMENT = {
    **PLACEHOLDER_CREDENTIALS,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
POLL_SECONDS = 0.1
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Source:
    """Which mock-bedrock to attack: ``python -m mock_bedrock.cli`` run by ``python``, with
    ``tree`` first on its path when given (an older checkout: same dependencies)."""

    python: str
    tree: Path | None = None
    nofile: int | None = USUAL_NOFILE

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(SERVER_AWS_ENVIRONMENT)
        if self.tree is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(self.tree), *filter(None, [os.environ.get("PYTHONPATH")])])
        return env

    def package_path(self) -> str:
        """Where the server's ``mock_bedrock`` is imported from (so the report says what
        was attacked, not what was meant to be)."""
        done = subprocess.run(
            [self.python, "-c", "import mock_bedrock; print(mock_bedrock.__file__)"],
            env=self.environment(), cwd=self.tree, capture_output=True, text=True, timeout=60,
            check=True)
        return str(Path(done.stdout.strip()).parent)


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[str]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)


@contextmanager
def _soft_nofile(limit: int | None) -> Iterator[None]:
    """This process's soft descriptor limit set to ``limit`` for as long as it takes to
    start a child, which inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if limit is None:
        yield
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextmanager
def served(source: Source, options: Sequence[str] = ()) -> Iterator[Server]:
    """A fresh ``mock-bedrock serve`` on a free 127.0.0.1 port; stopped on the way out
    (SIGTERM, then SIGKILL after soak's grace)."""
    with ExitStack() as stack:
        with _soft_nofile(source.nofile):
            process, url = stack.enter_context(mock_server_process(
                *options, python=source.python, env=source.environment(), cwd=source.tree))
        yield Server(process, url)


def raise_own_nofile(wanted: int) -> int:
    """Lift this process's soft descriptor limit towards ``wanted`` (the attacks open
    over a thousand sockets); returns the limit it has."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS


class Watch:
    """Samples the server's RSS and threads every POLL_SECONDS while it runs. Past
    ``cap_mib`` it sets ``over_cap`` (the attack stops); past ``kill_mib`` it kills the
    server, so a run on unbounded code cannot take the machine's memory."""

    def __init__(self, pid: int, cap_mib: float, kill_mib: float) -> None:
        self.pid = pid
        self.cap_kib = cap_mib * 1024
        self.kill_kib = kill_mib * 1024
        self.fresh_kib = rss_kib(pid)
        self.peak_kib = self.fresh_kib
        self.peak_threads = proc_status(pid, "Threads")
        self.over_cap = threading.Event()
        self.killed = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attack-watch", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self.sample()

    def sample(self) -> None:
        try:
            rss, threads = rss_kib(self.pid), proc_status(self.pid, "Threads")
            # The kernel's own high-water mark catches a peak between two samples.
            rss = max(rss, proc_status(self.pid, "VmHWM"))
        except (OSError, RuntimeError):
            return  # the server has exited; its exit code says why
        self.peak_kib = max(self.peak_kib, rss)
        self.peak_threads = max(self.peak_threads, threads)
        if rss > self.cap_kib:
            self.over_cap.set()
        if rss > self.kill_kib and not self.killed:
            self.killed = True
            os.kill(self.pid, signal.SIGKILL)

    def rss_mib(self) -> float | None:
        try:
            return rss_kib(self.pid) / 1024
        except (OSError, RuntimeError):
            return None

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.sample()


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))
