"""What one HTTP/2 connection may cost the server: the limits, the reset budget, the outbox
and the worker threads.

Each limit is read when it is used, so a test may lower it with ``monkeypatch.setattr``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from mock_bedrock.service.wire import max_body_length

# Streams whose answer is not finished, counting those the client reset while their worker
# still runs (the rapid-reset attack's point is that reset streams stop counting); beyond
# it, a new stream is refused (REFUSED_STREAM, which a client may retry).
MAX_STREAMS = 100
WORKERS_PER_CONNECTION = 16
# The request body limit of the HTTP/1.1 side (Bedrock's own, from the service model).
BODY_LIMIT = max_body_length()
# Past this many bytes, a connection's streams read their bodies one at a time (each until
# its answer is done), as they would over HTTP/1.1: the app reads a body whole, and 16
# streams at 25 MB each would hold 16 times what one connection may.
LARGE_BODY = 4 * 1024 * 1024
# Each stream's receive window, credited only as the app reads: the most a client can push
# ahead of the app. Wider once the app reads the stream (fewer round trips for an upload),
# narrow while the stream waits for a worker.
STREAM_WINDOW = 256 * 1024
READING_WINDOW = 1024 * 1024
# Never smaller than what all the streams may hold between them: a stream then never waits
# for another stream's body to be read (which could be queued behind it).
CONNECTION_WINDOW = (MAX_STREAMS * STREAM_WINDOW
                     + WORKERS_PER_CONNECTION * (READING_WINDOW - STREAM_WINDOW))
# A request body that has not moved (no byte arrived, none read) for this long is stalled:
# the stream is reset and its worker freed.
BODY_IDLE_TIMEOUT = 30.0
# An answer the client's window has kept shut (no credit from the client, nothing sent) for
# this long is given up: the stream is reset.
SEND_STALL_TIMEOUT = 30.0
# What may wait to be written to the socket before producers wait; if the client then reads
# nothing for SEND_STALL_TIMEOUT, the connection is dropped.
OUTBOX_LIMIT = 2 * 1024 * 1024
# The largest DATA frame sent, whatever frame size the client allows, so the outbox bound
# is kept to within one frame.
SEND_PIECE = 64 * 1024
# Streams reset by the client before their answer: a burst of this many, refilled at this
# rate. A client that spends more is mounting CVE-2023-44487 and gets GOAWAY
# (ENHANCE_YOUR_CALM); real clients cancel a few now and then.
RESET_BURST = 200
RESETS_PER_SECOND = 50.0


class ResetBudget:
    """Counts a connection's early resets against RESET_BURST and RESETS_PER_SECOND.
    Used under the connection's state lock."""

    def __init__(self) -> None:
        self._tokens = float(RESET_BURST)
        self._at = time.monotonic()

    def spend(self) -> bool:
        """One more early reset; False once the client has spent more than it may."""
        now = time.monotonic()
        self._tokens = min(float(RESET_BURST), self._tokens + (now - self._at) * RESETS_PER_SECOND)
        self._at = now
        self._tokens -= 1
        return self._tokens >= 0


class Outbox:
    """The bytes waiting for one connection's writer thread, in order, their size known.

    ``put`` never blocks (it is called under the h2 state lock); producers call
    ``wait_for_room`` first, outside that lock, so a client that never reads holds back the
    server's producers (and stops its own frames being read) instead of filling memory.
    """

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0  # queued or being written
        self._ended = False  # no more puts: the writer stops once drained
        self._closing = False  # the connection is over: nobody waits for room any more
        self._broken = False  # the socket failed: everything is dropped
        self._moved_at = time.monotonic()
        self._changed = threading.Condition()

    def put(self, data: bytes) -> None:
        with self._changed:
            if self._broken:
                return
            self._chunks.append(data)
            self._size += len(data)
            self._changed.notify_all()

    def get(self) -> bytes | None:
        """The next bytes to write; None when the writer is done."""
        with self._changed:
            while not self._chunks and not self._ended and not self._broken:
                self._changed.wait()
            if self._broken or not self._chunks:
                return None
            return self._chunks.popleft()

    def sent(self, size: int) -> None:
        with self._changed:
            self._size -= size
            self._moved_at = time.monotonic()
            self._changed.notify_all()

    def wait_for_room(self, limit: int | None = None) -> bool:
        """Wait until at most ``limit`` (OUTBOX_LIMIT) bytes wait; False if the client read
        nothing for SEND_STALL_TIMEOUT meanwhile, or the connection is over."""
        return self._wait_below(OUTBOX_LIMIT if limit is None else limit,
                                give_up_on_closing=True)

    def drain(self) -> bool:
        """Wait until everything queued is written; False if the client stopped reading."""
        return self._wait_below(0, give_up_on_closing=False)

    def _wait_below(self, limit: int, *, give_up_on_closing: bool) -> bool:
        with self._changed:
            while self._size > limit:
                if self._broken or (self._closing and give_up_on_closing):
                    return False
                left = self._moved_at + SEND_STALL_TIMEOUT - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return not self._broken

    def closing(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    def end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def broken(self) -> None:
        with self._changed:
            self._broken = True
            self._chunks.clear()
            self._size = 0
            self._changed.notify_all()


class Workers:
    """Up to WORKERS_PER_CONNECTION threads for a connection's streams, started as streams
    wait and ended when none does, so a connection whose streams stalled and were given up
    holds no thread (the standard library's pools keep their threads until shut down)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: deque[Callable[[], None]] = deque()
        self._running = 0
        self._closed = False
        self._changed = threading.Condition()

    def submit(self, job: Callable[[], None]) -> None:
        with self._changed:
            if self._closed:
                return
            self._jobs.append(job)
            if self._running < WORKERS_PER_CONNECTION:
                self._running += 1
                threading.Thread(target=self._work, name=self._name).start()

    def _work(self) -> None:
        while True:
            with self._changed:
                if not self._jobs:
                    self._running -= 1
                    self._changed.notify_all()
                    return
                job = self._jobs.popleft()
            job()

    def shutdown(self) -> None:
        """Drop the jobs not started (stopping does not wait behind them); wait for the rest."""
        with self._changed:
            self._closed = True
            self._jobs.clear()
            while self._running:
                self._changed.wait()
