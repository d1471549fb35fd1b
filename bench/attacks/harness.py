"""One attack against one fresh server, measured: what an attack is, what it is given while
it runs (:class:`Siege`), and what is measured around it (:class:`Result`).

The timeline: the server starts and answers one warm-up call; the attack runs for its time
(or until the server's RSS passes the cap) while a normal call is probed every second; the
attack's client leaves (it closes everything it opened); one probe a second later; the
server's CPU over the 3 s after the client left; then the server is stopped (SIGTERM, then
SIGKILL), and how long it took to go is measured too.
"""

from __future__ import annotations

import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.attacks.probe import Probe, Prober, clients_pointed_at, normal_call
from bench.attacks.target import Server, Source, Watch, cpu_seconds, served, wait_until

RSS_TARGET_MIB = 512
AFTER_PROBE_SECONDS = 1.0  # after the client left
AFTER_CPU_SECONDS = 3.0
DEFAULT_CAP_MIB = 2048


@dataclass
class Siege:
    """What an attack gets: the server's address and pid, a place for files, its time, and
    a place for what it saw. ``running()`` turns false at the deadline or when the server's
    RSS passes the cap; every attack checks it at least every second or so."""

    server: Server
    work: Path
    deadline: float
    stop: threading.Event
    notes: dict[str, Any] = field(default_factory=dict)
    source: Source | None = None  # the server's code: an attack's own clients may run it too

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def hold(self, seconds: float | None = None) -> bool:
        """Wait ``seconds`` (default: to the deadline) unless stopped; still running?"""
        self.stop.wait(self.remaining() if seconds is None else min(seconds, self.remaining()))
        return self.running()

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value


@dataclass(frozen=True)
class Attack:
    """``mount`` runs the attack until ``siege.running()`` is false or it is done, and
    closes what it opened before it returns. ``options`` gives ``mock-bedrock serve`` its
    options (it may first write files into the work directory)."""

    name: str
    family: str
    summary: str
    mount: Callable[[Siege], None]
    seconds: float
    options: Callable[[Path], Sequence[str]] = lambda work: ()
    # Under --record to an unreachable upstream a normal call is an error: any answer counts.
    probe_any_status: bool = False
    # Seconds from SIGTERM to exit beyond which the stop is a missed target (None: not judged).
    stop_within: float | None = None


@dataclass
class Result:
    attack: Attack
    pid: int  # the server's, stopped by now
    seconds: float  # the attack's own time, until its client left
    fresh_rss_mib: float
    peak_rss_mib: float
    over_cap: bool
    killed: bool
    peak_threads: int
    warm_up: Probe
    during: list[Probe]
    after: Probe | None
    cpu_during: float
    cpu_after: float | None
    stop_seconds: float  # from SIGTERM to gone (SIGKILL after soak's grace)
    exited: int | None  # the exit code, if the server died during the attack
    notes: dict[str, Any]
    error: str | None = None

    def during_ok(self) -> bool:
        return all(p.answered(self.attack.probe_any_status) for p in self.during)

    def after_ok(self) -> bool:
        return self.after is not None and self.after.answered(self.attack.probe_any_status)

    def missed(self) -> list[str]:
        """The targets missed."""
        missed = []
        if self.over_cap or self.peak_rss_mib >= RSS_TARGET_MIB:
            missed.append(f"RSS >= {RSS_TARGET_MIB} MiB")
        if not self.during_ok():
            missed.append("call during")
        if not self.after_ok():
            missed.append("call after")
        if self.attack.stop_within is not None and self.stop_seconds > self.attack.stop_within:
            missed.append(f"stop > {self.attack.stop_within:g} s")
        return missed

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "FAIL" if self.missed() else "PASS"


def run_attack(attack: Attack, source: Source, *, cap_mib: float = DEFAULT_CAP_MIB,
               scale: float = 1.0) -> Result:
    """Mount ``attack`` against a fresh server from ``source`` and measure it."""
    with tempfile.TemporaryDirectory(prefix=f"attack-{attack.name}-") as folder:
        work = Path(folder)
        options = attack.options(work)
        with served(source, options) as server, clients_pointed_at(server.url):
            warm_up = normal_call()  # imports and first render, outside the measurement
            with Watch(server.pid, cap_mib, kill_mib=cap_mib + 1024) as watch:
                stop = watch.over_cap
                siege = Siege(server, work, time.monotonic() + attack.seconds * scale, stop,
                              source=source)
                prober = Prober()
                cpu_start, started = cpu_seconds(server.pid), time.monotonic()
                prober.start()
                error = _mount(attack, siege)
                left = time.monotonic()
                prober.stop()
                cpu_left = _cpu_or_none(server.pid)
                after: list[Probe] = []

                def probe_after() -> None:
                    wait_until(left + AFTER_PROBE_SECONDS)
                    after.append(normal_call())

                after_thread = threading.Thread(target=probe_after, daemon=True)
                after_thread.start()
                wait_until(left + AFTER_CPU_SECONDS * min(1.0, scale))
                cpu_end = _cpu_or_none(server.pid)
                after_thread.join()
                during = prober.join()
            exited = server.process.poll()  # before it was asked to stop: it died
            stopping = time.monotonic()
        stop_seconds = time.monotonic() - stopping
    return Result(
        attack=attack, pid=server.pid, seconds=left - started,
        fresh_rss_mib=watch.fresh_kib / 1024, peak_rss_mib=watch.peak_kib / 1024,
        over_cap=watch.over_cap.is_set(), killed=watch.killed, peak_threads=watch.peak_threads,
        warm_up=warm_up, during=during, after=after[0] if after else None,
        cpu_during=(cpu_left if cpu_left is not None else 0.0) - cpu_start,
        cpu_after=cpu_end - cpu_left if cpu_end is not None and cpu_left is not None else None,
        stop_seconds=stop_seconds, exited=exited, notes=siege.notes, error=error,
    )


def _mount(attack: Attack, siege: Siege) -> str | None:
    """Runs the attack; a crash of the harness is reported, not raised (the server still
    gets stopped and the other attacks still run)."""
    try:
        attack.mount(siege)
    except Exception as err:
        traceback.print_exc()
        return f"{type(err).__name__}: {err}"
    return None


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


def run_together(client: Callable[[], None], count: int, name: str) -> None:
    """``count`` threads running ``client`` together; returns when all have ended."""
    threads = [threading.Thread(target=client, name=f"{name}-{i}", daemon=True)
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
