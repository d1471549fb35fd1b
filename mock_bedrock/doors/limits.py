"""The server door's bounds on what clients may hold: read deadlines a trickle cannot
stretch (HTTP/1.1), a budget for the request bodies being read at once (one per server,
HTTP/1.1 and HTTP/2 alike), and a connection cap under the descriptor limit. The figures
are the server's (:mod:`.server`), but for the connection cap, which ``mock-bedrock --help``
shows without loading the server (nor, so, the wire module); the mechanisms are here, since
the standard library's server has none of them.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from typing import Any

# Connections served at once. Below the usual 1,024 descriptors, which also leave room for a
# second descriptor per connection (the recorder's upstream socket, a cassette).
MAX_CONNECTIONS = 256
# How much later than its phase's deadline a read may end (see SocketReader.readinto).
SLACK = 0.25
# A request refused for want of room to read its body: a 503, which clients retry (boto3
# does), after the Retry-After seconds. The wording is ours.
BUSY_BODIES = "mock-bedrock is reading as many request bodies as it holds at once; try again"
RETRY_AFTER = "1"


def busy_body(message: str) -> bytes:
    """A busy 503's body: its message in JSON, as SDKs read an error's."""
    return json.dumps({"message": message}).encode() + b"\n"


class SocketReader(io.RawIOBase):
    """The socket as a handler reads it, each read bounded by the deadline of the current
    phase (waiting, head, body) rather than by a per-read timeout, which a client sending a
    byte a second resets forever."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._deadline: float | None = None
        self._seconds_per_byte = 0.0

    def expect(self, seconds: float, *, bytes_per_second: float | None = None) -> None:
        """From now on reads must end within ``seconds``, plus a second for each
        ``bytes_per_second`` bytes that arrive meanwhile (a minimum average pace)."""
        self._deadline = time.monotonic() + seconds
        self._seconds_per_byte = 1 / bytes_per_second if bytes_per_second else 0.0

    def untimed(self, timeout: float) -> None:
        """A fixed per-read timeout, set once: the HTTP/2 door's threads share the socket,
        and a socket's timeout is also its writes'."""
        self._deadline = None
        self._sock.settimeout(timeout)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the client is too slow")
            # settimeout costs a system call or two: set anew only when the time left and
            # the timeout set differ by more than SLACK (so a read ends at most that late).
            timeout = self._sock.gettimeout()
            if timeout is None or abs(timeout - left) > SLACK:
                self._sock.settimeout(left)
        received = self._sock.recv_into(buffer)
        if self._deadline is not None:
            self._deadline += received * self._seconds_per_byte
        return received

    def fileno(self) -> int:
        return self._sock.fileno()


class BodyBudget:
    """Bytes of request bodies the app may be reading at once, across connections and
    protocols. The app holds a body whole (and more, while it parses it), so thirty 24 MB
    bodies at once would take gigabytes; past the budget a request waits up to ``wait``
    seconds for room before its body is read. Bodies up to ``small`` bytes need none."""

    def __init__(self, total: int, small: int = 0, wait: float = 0.0) -> None:
        self.total = total
        self.small = small
        self.wait = wait
        self._used = 0
        self._closed = False
        self._room = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    def admit(self, announced: int | None) -> int | None:
        """Room for a request body of ``announced`` bytes (None: unknown, so as long as the
        longest the app reads): the bytes reserved (0 for a small body; to
        :meth:`release`), or None: the request is to be answered BUSY_BODIES."""
        from mock_bedrock.service.wire import max_body_length  # loaded by then: a dict lookup

        limit = max_body_length()  # the app reads no more than this, whatever is announced
        size = limit if announced is None else min(announced, limit)
        if size <= self.small:
            return 0
        return self.reserve(size, self.wait)

    def reserve(self, size: int, timeout: float) -> int | None:
        """Reserve ``size`` bytes (at most the whole budget), waiting up to ``timeout``
        seconds for room; what was reserved (to :meth:`release`), or None (also once
        closed)."""
        size = min(size, self.total)
        with self._room:
            self._room.wait_for(lambda: self._closed or self._used + size <= self.total,
                                timeout)
            if self._closed or self._used + size > self.total:
                return None
            self._used += size
        return size

    def close(self) -> None:
        """The server stops: every wait for room ends, and no more is given."""
        with self._room:
            self._closed = True
            self._room.notify_all()

    def release(self, size: int) -> None:
        with self._room:
            self._used -= size
            self._room.notify_all()


def descriptor_cap(wanted: int) -> int:
    """``wanted`` connections, or fewer where the descriptor limit is low (macOS's default
    is 256): half of it, as a connection may hold a second descriptor (the recorder's
    upstream socket, a cassette)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to stay under
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft // 2))
